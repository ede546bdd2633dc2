-- An ERPNext-shaped database (Frappe framework on MariaDB) for the MySQL/MariaDB records test and
-- `bestbox bench --only records`. Frappe stores a DocType "X" in the table `tabX` with a text key
-- `name`, `docstatus` (0 draft, 1 submitted, 2 cancelled), `owner`, `creation` and `modified`
-- (Frappe docs, "DocType" / "Database"); the DocTypes and fields are those of ERPNext's
-- documentation (Buying, Stock, CRM, Support, HR). Only the columns docs/data-mappings/erpnext.toml
-- reads are here, with Frappe's column types; a real site has many more.
CREATE TABLE `tabSupplier` (name VARCHAR(140) PRIMARY KEY, supplier_name VARCHAR(140), supplier_group VARCHAR(140),
  country VARCHAR(140), email_id VARCHAR(140), disabled INT(1) NOT NULL DEFAULT 0, docstatus INT(1) NOT NULL DEFAULT 0,
  owner VARCHAR(140), creation DATETIME(6), modified DATETIME(6));
CREATE TABLE `tabItem` (name VARCHAR(140) PRIMARY KEY, item_code VARCHAR(140), item_name VARCHAR(140),
  item_group VARCHAR(140), stock_uom VARCHAR(140), valuation_rate DECIMAL(21,9), disabled INT(1) NOT NULL DEFAULT 0);
CREATE TABLE `tabWarehouse` (name VARCHAR(140) PRIMARY KEY, warehouse_name VARCHAR(140), city VARCHAR(140),
  is_group INT(1) NOT NULL DEFAULT 0);
CREATE TABLE `tabBin` (name VARCHAR(140) PRIMARY KEY, item_code VARCHAR(140), warehouse VARCHAR(140),
  actual_qty DECIMAL(21,9));
CREATE TABLE `tabItem Reorder` (name VARCHAR(140) PRIMARY KEY, parent VARCHAR(140), warehouse VARCHAR(140),
  warehouse_reorder_level DECIMAL(21,9), warehouse_reorder_qty DECIMAL(21,9));
CREATE TABLE `tabPurchase Order` (name VARCHAR(140) PRIMARY KEY, supplier VARCHAR(140), set_warehouse VARCHAR(140),
  transaction_date DATE, schedule_date DATE, docstatus INT(1) NOT NULL DEFAULT 0, status VARCHAR(140),
  per_received DECIMAL(21,9) DEFAULT 0, grand_total DECIMAL(21,9), owner VARCHAR(140));
CREATE TABLE `tabPurchase Order Item` (name VARCHAR(140) PRIMARY KEY, parent VARCHAR(140), item_code VARCHAR(140),
  qty DECIMAL(21,9), rate DECIMAL(21,9), amount DECIMAL(21,9));
CREATE TABLE `tabPurchase Invoice` (name VARCHAR(140) PRIMARY KEY, supplier VARCHAR(140), posting_date DATE,
  due_date DATE, grand_total DECIMAL(21,9), outstanding_amount DECIMAL(21,9), docstatus INT(1) NOT NULL DEFAULT 0);
CREATE TABLE `tabPurchase Invoice Item` (name VARCHAR(140) PRIMARY KEY, parent VARCHAR(140), purchase_order VARCHAR(140));
CREATE TABLE `tabCustomer` (name VARCHAR(140) PRIMARY KEY, customer_name VARCHAR(140), industry VARCHAR(140),
  territory VARCHAR(140), market_segment VARCHAR(140), account_manager VARCHAR(140), creation DATETIME(6),
  disabled INT(1) NOT NULL DEFAULT 0);
CREATE TABLE `tabOpportunity` (name VARCHAR(140) PRIMARY KEY, opportunity_from VARCHAR(140), party_name VARCHAR(140),
  title VARCHAR(140), status VARCHAR(140), sales_stage VARCHAR(140), opportunity_amount DECIMAL(21,9),
  probability DECIMAL(21,9), expected_closing DATE, opportunity_owner VARCHAR(140), owner VARCHAR(140),
  creation DATETIME(6), modified DATETIME(6));
CREATE TABLE `tabIssue` (name VARCHAR(140) PRIMARY KEY, subject VARCHAR(140), description LONGTEXT,
  priority VARCHAR(140), issue_type VARCHAR(140), status VARCHAR(140), raised_by VARCHAR(140), opening_date DATE,
  modified DATETIME(6));
CREATE TABLE `tabEmployee` (name VARCHAR(140) PRIMARY KEY, employee_name VARCHAR(140), company_email VARCHAR(140),
  personal_email VARCHAR(140), department VARCHAR(140), designation VARCHAR(140), reports_to VARCHAR(140),
  branch VARCHAR(140), date_of_joining DATE, status VARCHAR(140));

INSERT INTO `tabSupplier` VALUES
  ('Nordwind Armaturen GmbH', 'Nordwind Armaturen GmbH', 'Raw Material', 'Germany', 'sales@nordwind.example', 0, 0, 'Administrator', NOW(6), NOW(6)),
  ('Vistula Packaging', 'Vistula Packaging Sp. z o.o.', 'Services', 'Poland', 'orders@vistula.example', 0, 0, 'Administrator', NOW(6), NOW(6)),
  ('Alpenkraft Hydraulik', 'Alpenkraft Hydraulik AG', 'Hardware', 'Austria', NULL, 0, 0, 'Administrator', NOW(6), NOW(6));
INSERT INTO `tabItem` VALUES
  ('VALVE-DN50', 'VALVE-DN50', 'Ball valve DN50', 'Raw Material', 'Nos', 42.5, 0),
  ('CARTON-60', 'CARTON-60', 'Shipping carton 60 cm', 'Consumable', 'Nos', 0.8, 0),
  ('PUMP-H200', 'PUMP-H200', 'Hydraulic pump H200', 'Products', 'Nos', 910, 0);
INSERT INTO `tabWarehouse` VALUES ('All Warehouses - BB', 'All Warehouses', NULL, 1), ('Stores - BB', 'Stores', 'Linz', 0);
INSERT INTO `tabBin` VALUES ('BIN-1', 'VALVE-DN50', 'Stores - BB', 120), ('BIN-2', 'CARTON-60', 'Stores - BB', 4000),
  ('BIN-3', 'PUMP-H200', 'Stores - BB', 3);
INSERT INTO `tabItem Reorder` VALUES ('IR-1', 'PUMP-H200', 'Stores - BB', 5, 10);
INSERT INTO `tabPurchase Order` VALUES
  ('PUR-ORD-2026-00001', 'Nordwind Armaturen GmbH', 'Stores - BB', CURDATE() - INTERVAL 20 DAY, CURDATE() - INTERVAL 5 DAY, 1, 'Completed', 100, 4250, 'buyer@bestbox.example'),
  ('PUR-ORD-2026-00002', 'Vistula Packaging', 'Stores - BB', CURDATE() - INTERVAL 10 DAY, CURDATE() + INTERVAL 4 DAY, 1, 'To Receive and Bill', 0, 1600, 'buyer@bestbox.example'),
  ('PUR-ORD-2026-00003', 'Alpenkraft Hydraulik', 'Stores - BB', CURDATE() - INTERVAL 3 DAY, NULL, 0, 'Draft', 0, 9100, 'buyer@bestbox.example'),
  ('PUR-ORD-2026-00004', 'Nordwind Armaturen GmbH', 'Stores - BB', CURDATE() - INTERVAL 40 DAY, NULL, 2, 'Cancelled', 0, 999, 'buyer@bestbox.example');
INSERT INTO `tabPurchase Order Item` VALUES
  ('POI-1', 'PUR-ORD-2026-00001', 'VALVE-DN50', 100, 42.5, 4250), ('POI-2', 'PUR-ORD-2026-00002', 'CARTON-60', 2000, 0.8, 1600),
  ('POI-3', 'PUR-ORD-2026-00003', 'PUMP-H200', 10, 910, 9100), ('POI-4', 'PUR-ORD-2026-00004', 'VALVE-DN50', 20, 49.95, 999);
INSERT INTO `tabPurchase Invoice` VALUES
  ('ACC-PINV-2026-00001', 'Nordwind Armaturen GmbH', CURDATE() - INTERVAL 4 DAY, CURDATE() + INTERVAL 26 DAY, 4250, 0, 1),
  ('ACC-PINV-2026-00002', 'Vistula Packaging', CURDATE() - INTERVAL 1 DAY, CURDATE() + INTERVAL 29 DAY, 1600, 1600, 1);
INSERT INTO `tabPurchase Invoice Item` VALUES ('PII-1', 'ACC-PINV-2026-00001', 'PUR-ORD-2026-00001'),
  ('PII-2', 'ACC-PINV-2026-00002', 'PUR-ORD-2026-00002');
INSERT INTO `tabCustomer` VALUES
  ('Bergland Outdoor', 'Bergland Outdoor KG', 'Retail', 'Austria', 'SMB', 'anna@bestbox.example', NOW(6), 0),
  ('Hafenwerk Logistik', 'Hafenwerk Logistik GmbH', 'Logistics', 'Germany', 'Enterprise', 'jonas@bestbox.example', NOW(6), 0);
INSERT INTO `tabOpportunity` VALUES
  ('CRM-OPP-2026-00001', 'Customer', 'Hafenwerk Logistik', 'Pumps for the new dock', 'Open', 'Proposal/Price Quote', 48000, 60, CURDATE() + INTERVAL 30 DAY, 'jonas@bestbox.example', 'jonas@bestbox.example', NOW(6), NOW(6)),
  ('CRM-OPP-2026-00002', 'Customer', 'Bergland Outdoor', 'Valve restock', 'Converted', NULL, 7200, 100, CURDATE() - INTERVAL 2 DAY, NULL, 'anna@bestbox.example', NOW(6), NOW(6)),
  ('CRM-OPP-2026-00003', 'Lead', 'CRM-LEAD-0007', 'Trade fair contact', 'Open', 'Prospecting', 1000, 10, NULL, NULL, 'anna@bestbox.example', NOW(6), NOW(6));
INSERT INTO `tabIssue` VALUES
  ('ISS-2026-00001', 'Pump H200 leaking after install', 'Customer reports oil at the seal.', 'High', 'Product', 'Open', 'service@hafenwerk.example', CURDATE() - INTERVAL 1 DAY, NOW(6)),
  ('ISS-2026-00002', 'Invoice address wrong', NULL, 'Low', NULL, 'Resolved', 'accounts@bergland.example', CURDATE() - INTERVAL 9 DAY, NOW(6));
INSERT INTO `tabEmployee` VALUES
  ('HR-EMP-00001', 'Miriam Hofstetter', 'miriam@bestbox.example', NULL, 'Purchasing - BB', 'Head of Purchasing', NULL, 'Linz', '2019-03-01', 'Active'),
  ('HR-EMP-00002', 'Tomasz Wielgosz', NULL, 'tomasz@mail.example', 'Purchasing - BB', 'Buyer', 'HR-EMP-00001', 'Linz', '2022-09-15', 'Active'),
  ('HR-EMP-00003', 'Former Person', 'former@bestbox.example', NULL, 'Sales - BB', 'Sales', NULL, 'Linz', '2015-01-01', 'Left');
