-- A small database shaped like Odoo's (Community 16/17 + the Enterprise helpdesk module), for tests.
--
-- Table and column names follow Odoo's ORM models, whose table is the model name with '.' → '_'
-- (res.partner → res_partner, purchase.order → purchase_order, account.move → account_move, ...), as
-- in Odoo's developer documentation ("ORM API" / "Models") and its source (odoo/addons/*/models/*.py).
-- Kept from Odoo on purpose because it is unlike BestBox's schema: translatable names are JSONB
-- ({"en_US": ...}), one partner table holds vendors, customers and people (supplier_rank/customer_rank),
-- bills are account_move rows with move_type 'in_invoice', stock is quants per location, CRM stages
-- are rows, priorities are '0'..'3' strings. Only the columns BestBox's mapping reads are here.
-- Dates are relative to CURRENT_DATE so "this quarter" / "last 90 days" questions always have data.

CREATE TABLE res_country (id serial PRIMARY KEY, name jsonb NOT NULL, code varchar(2) NOT NULL);
CREATE TABLE res_partner_industry (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE res_partner (
  id serial PRIMARY KEY, name varchar NOT NULL, is_company boolean DEFAULT true, active boolean DEFAULT true,
  supplier_rank integer DEFAULT 0, customer_rank integer DEFAULT 0, country_id integer REFERENCES res_country,
  city varchar, email varchar, phone varchar, industry_id integer REFERENCES res_partner_industry,
  parent_id integer REFERENCES res_partner, function varchar, create_date timestamp DEFAULT now());
CREATE TABLE res_users (id serial PRIMARY KEY, login varchar NOT NULL, partner_id integer NOT NULL REFERENCES res_partner);
CREATE TABLE res_partner_category (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE res_partner_res_partner_category_rel (category_id integer, partner_id integer);
CREATE TABLE uom_uom (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE product_category (id serial PRIMARY KEY, name varchar NOT NULL, complete_name varchar);
CREATE TABLE product_template (
  id serial PRIMARY KEY, name jsonb NOT NULL, categ_id integer REFERENCES product_category,
  uom_id integer REFERENCES uom_uom, list_price numeric, type varchar DEFAULT 'product');
CREATE TABLE product_product (
  id serial PRIMARY KEY, product_tmpl_id integer NOT NULL REFERENCES product_template,
  default_code varchar, standard_price jsonb, active boolean DEFAULT true);
CREATE TABLE product_supplierinfo (
  id serial PRIMARY KEY, partner_id integer NOT NULL REFERENCES res_partner,
  product_tmpl_id integer REFERENCES product_template, price numeric, delay integer DEFAULT 1, sequence integer DEFAULT 1);
CREATE TABLE stock_warehouse (id serial PRIMARY KEY, name varchar NOT NULL, code varchar(5) NOT NULL,
  partner_id integer REFERENCES res_partner);
CREATE TABLE stock_location (id serial PRIMARY KEY, name varchar NOT NULL, usage varchar NOT NULL,
  warehouse_id integer REFERENCES stock_warehouse);
CREATE TABLE stock_quant (id serial PRIMARY KEY, product_id integer NOT NULL REFERENCES product_product,
  location_id integer NOT NULL REFERENCES stock_location, quantity numeric NOT NULL DEFAULT 0);
CREATE TABLE stock_warehouse_orderpoint (id serial PRIMARY KEY, product_id integer REFERENCES product_product,
  warehouse_id integer REFERENCES stock_warehouse, product_min_qty numeric, product_max_qty numeric);
CREATE TABLE stock_picking_type (id serial PRIMARY KEY, name jsonb, code varchar, warehouse_id integer REFERENCES stock_warehouse);
CREATE TABLE purchase_order (
  id serial PRIMARY KEY, name varchar NOT NULL, partner_id integer NOT NULL REFERENCES res_partner,
  picking_type_id integer REFERENCES stock_picking_type, date_order timestamp NOT NULL, date_planned timestamp,
  effective_date timestamp, state varchar NOT NULL, receipt_status varchar, amount_total numeric,
  user_id integer REFERENCES res_users);
CREATE TABLE purchase_order_line (
  id serial PRIMARY KEY, order_id integer NOT NULL REFERENCES purchase_order, product_id integer REFERENCES product_product,
  product_qty numeric NOT NULL, price_unit numeric NOT NULL, price_subtotal numeric);
CREATE TABLE account_move (
  id serial PRIMARY KEY, name varchar, move_type varchar NOT NULL, state varchar NOT NULL,
  partner_id integer REFERENCES res_partner, invoice_date date, invoice_date_due date, invoice_origin varchar,
  amount_total numeric, amount_residual numeric, payment_state varchar);
CREATE TABLE crm_stage (id serial PRIMARY KEY, name jsonb NOT NULL, sequence integer, is_won boolean DEFAULT false);
CREATE TABLE crm_lead (
  id serial PRIMARY KEY, name varchar NOT NULL, type varchar NOT NULL, partner_id integer REFERENCES res_partner,
  stage_id integer REFERENCES crm_stage, expected_revenue numeric, probability double precision,
  date_deadline date, date_closed timestamp, user_id integer REFERENCES res_users, active boolean DEFAULT true,
  create_date timestamp DEFAULT now());
CREATE TABLE helpdesk_team (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE helpdesk_stage (id serial PRIMARY KEY, name jsonb NOT NULL, fold boolean DEFAULT false);
CREATE TABLE helpdesk_ticket (
  id serial PRIMARY KEY, name varchar NOT NULL, description text, priority varchar DEFAULT '0',
  team_id integer REFERENCES helpdesk_team, stage_id integer REFERENCES helpdesk_stage,
  partner_id integer REFERENCES res_partner, create_date timestamp, write_date timestamp);
CREATE TABLE hr_department (id serial PRIMARY KEY, name jsonb NOT NULL);
CREATE TABLE hr_work_location (id serial PRIMARY KEY, name varchar NOT NULL);
CREATE TABLE hr_employee (
  id serial PRIMARY KEY, name varchar NOT NULL, work_email varchar, department_id integer REFERENCES hr_department,
  job_title varchar, parent_id integer REFERENCES hr_employee, work_location_id integer REFERENCES hr_work_location,
  create_date timestamp, active boolean DEFAULT true);

-- Data: partner names are from Odoo's own demo database (base/data/res_partner_demo.xml).
INSERT INTO res_country (name, code) VALUES ('{"en_US": "Belgium"}', 'BE'), ('{"en_US": "United States"}', 'US');
INSERT INTO res_partner_industry (name) VALUES ('{"en_US": "Manufacturing"}'), ('{"en_US": "Retail"}');
INSERT INTO res_partner (name, supplier_rank, customer_rank, country_id, city, email, industry_id) VALUES
  ('Azure Interior', 3, 0, 2, 'Fremont', 'azure.Interior24@example.com', 1),      -- 1
  ('Wood Corner', 2, 0, 2, 'Turlock', 'wood.corner26@example.com', 1),            -- 2
  ('Gemini Furniture', 1, 0, 2, 'Fairfield', 'gemini.furniture39@example.com', 1),-- 3
  ('Lumber Inc', 1, 0, 2, 'Stockton', 'lumber-inv92@example.com', NULL),           -- 4
  ('Deco Addict', 0, 4, 2, 'Pleasant Hill', 'deco.addict82@example.com', 2),       -- 5
  ('Ready Mat', 0, 2, 2, 'Tracy', 'ready.mat28@example.com', 2),                   -- 6
  ('The Jackson Group', 0, 1, 2, 'Tracy', 'jackson.group82@example.com', NULL),    -- 7
  ('Mitchell Admin', 0, 0, 1, 'Brussels', 'admin@yourcompany.example.com', NULL),  -- 8
  ('Marc Demo', 0, 0, 1, 'Brussels', 'mark.brown23@example.com', NULL),            -- 9
  ('YourCompany Warehouse', 0, 0, 2, 'San Francisco', NULL, NULL);                 -- 10
UPDATE res_partner SET is_company = false WHERE id IN (8, 9);
INSERT INTO res_partner (name, is_company, parent_id, function, email, phone) VALUES
  ('Brandon Freeman', false, 1, 'Purchasing Manager', 'brandon.freeman55@example.com', '(355)-687-3262'),
  ('Douglas Fletcher', false, 5, 'Functional Consultant', 'douglas.fletcher51@example.com', '(132)-553-7242');
INSERT INTO res_users (login, partner_id) VALUES ('admin', 8), ('demo', 9);
INSERT INTO res_partner_category (name) VALUES ('{"en_US": "Enterprise"}');
INSERT INTO res_partner_res_partner_category_rel VALUES (1, 5);
INSERT INTO uom_uom (name) VALUES ('{"en_US": "Units"}');
INSERT INTO product_category (name, complete_name) VALUES ('Furniture', 'All / Saleable / Furniture'), ('Office', 'All / Office');
INSERT INTO product_template (name, categ_id, uom_id, list_price) VALUES
  ('{"en_US": "Large Cabinet"}', 1, 1, 320), ('{"en_US": "Office Chair"}', 1, 1, 70),
  ('{"en_US": "Desk Pad"}', 2, 1, 9.5);
INSERT INTO product_product (product_tmpl_id, default_code, standard_price) VALUES
  (1, 'E-COM07', '{"1": 800.0}'), (2, 'FURN_7777', '{"1": 55.0}'), (3, 'DESK-PAD', '{"1": 4.25}');
INSERT INTO product_supplierinfo (partner_id, product_tmpl_id, price, delay) VALUES
  (1, 1, 790, 5), (2, 2, 52, 8), (3, 2, 54, 12), (4, 3, 4, 3);
INSERT INTO stock_warehouse (name, code, partner_id) VALUES ('San Francisco', 'WH', 10);
INSERT INTO stock_location (name, usage, warehouse_id) VALUES ('Stock', 'internal', 1), ('Vendors', 'supplier', NULL);
INSERT INTO stock_quant (product_id, location_id, quantity) VALUES (1, 1, 4), (2, 1, 60), (3, 1, 500), (2, 2, -5);
INSERT INTO stock_warehouse_orderpoint (product_id, warehouse_id, product_min_qty, product_max_qty) VALUES
  (1, 1, 10, 30), (2, 1, 20, 100);
INSERT INTO stock_picking_type (name, code, warehouse_id) VALUES ('{"en_US": "Receipts"}', 'incoming', 1);
INSERT INTO purchase_order (name, partner_id, picking_type_id, date_order, date_planned, effective_date, state,
                            receipt_status, amount_total, user_id) VALUES
  ('P00001', 1, 1, CURRENT_DATE - 20, CURRENT_DATE - 15, CURRENT_DATE - 14, 'purchase', 'full', 7900, 1),
  ('P00002', 1, 1, CURRENT_DATE - 10, CURRENT_DATE - 5, NULL, 'purchase', 'pending', 3950, 1),
  ('P00003', 2, 1, CURRENT_DATE - 12, CURRENT_DATE - 4, CURRENT_DATE - 3, 'done', 'full', 2600, 2),
  ('P00004', 3, 1, CURRENT_DATE - 8, CURRENT_DATE + 4, NULL, 'sent', NULL, 1080, 2),
  ('P00005', 4, 1, CURRENT_DATE - 6, CURRENT_DATE - 3, NULL, 'purchase', 'pending', 400, 1),
  ('P00006', 2, 1, CURRENT_DATE - 5, CURRENT_DATE + 3, NULL, 'cancel', NULL, 99999, 1);
INSERT INTO purchase_order_line (order_id, product_id, product_qty, price_unit, price_subtotal) VALUES
  (1, 1, 10, 790, 7900), (2, 1, 5, 790, 3950), (3, 2, 50, 52, 2600), (4, 2, 20, 54, 1080),
  (5, 3, 100, 4, 400), (6, 2, 1, 99999, 99999);
INSERT INTO account_move (name, move_type, state, partner_id, invoice_date, invoice_date_due, invoice_origin,
                          amount_total, amount_residual, payment_state) VALUES
  ('BILL/2026/0001', 'in_invoice', 'posted', 1, CURRENT_DATE - 14, CURRENT_DATE - 4, 'P00001', 7900, 7900, 'not_paid'),
  ('BILL/2026/0002', 'in_invoice', 'posted', 2, CURRENT_DATE - 3, CURRENT_DATE + 27, 'P00003', 2600, 0, 'paid'),
  ('BILL/2026/0003', 'in_invoice', 'posted', 4, CURRENT_DATE - 40, CURRENT_DATE - 10, 'P00005', 400, 150, 'partial'),
  ('INV/2026/0001', 'out_invoice', 'posted', 5, CURRENT_DATE - 9, CURRENT_DATE - 1, NULL, 5000, 5000, 'not_paid');
INSERT INTO crm_stage (name, sequence, is_won) VALUES
  ('{"en_US": "New"}', 1, false), ('{"en_US": "Qualified"}', 2, false), ('{"en_US": "Proposition"}', 3, false),
  ('{"en_US": "Won"}', 70, true);
INSERT INTO crm_lead (name, type, partner_id, stage_id, expected_revenue, probability, date_deadline, date_closed,
                      user_id, active, create_date) VALUES
  ('Office Design Project', 'opportunity', 5, 4, 24000, 100, CURRENT_DATE - 7, CURRENT_DATE - 7, 1, true, CURRENT_DATE - 60),
  ('Distributor Contract', 'opportunity', 6, 4, 19800, 100, CURRENT_DATE - 12, CURRENT_DATE - 12, 2, true, CURRENT_DATE - 80),
  ('Quote for 150 carpets', 'opportunity', 5, 3, 40000, 60, CURRENT_DATE + 20, NULL, 1, true, CURRENT_DATE - 30),
  ('Modern Open Space', 'opportunity', 7, 2, 4500, 30, CURRENT_DATE + 40, NULL, 2, true, CURRENT_DATE - 20),
  ('Furnitures', 'opportunity', 6, 1, 5600, 10, CURRENT_DATE + 50, NULL, 2, false, CURRENT_DATE - 90),
  ('Need info on chairs', 'lead', NULL, 1, 0, 5, NULL, NULL, 1, true, CURRENT_DATE - 2);
INSERT INTO helpdesk_team (name) VALUES ('{"en_US": "Customer Care"}');
INSERT INTO helpdesk_stage (name, fold) VALUES ('{"en_US": "New"}', false), ('{"en_US": "In Progress"}', false),
  ('{"en_US": "Solved"}', true);
INSERT INTO helpdesk_ticket (name, description, priority, team_id, stage_id, partner_id, create_date, write_date) VALUES
  ('Chair arrived broken', '<p>Leg snapped</p>', '3', 1, 1, 5, CURRENT_DATE - 2, CURRENT_DATE - 1),
  ('Invoice address wrong', NULL, '1', 1, 2, 6, CURRENT_DATE - 5, CURRENT_DATE - 4),
  ('Delivery date question', 'When?', '0', 1, 3, 7, CURRENT_DATE - 20, CURRENT_DATE - 18);
INSERT INTO hr_department (name) VALUES ('{"en_US": "Administration"}'), ('{"en_US": "Sales"}');
INSERT INTO hr_work_location (name) VALUES ('Building 1, Second Floor');
INSERT INTO hr_employee (name, work_email, department_id, job_title, parent_id, work_location_id, create_date) VALUES
  ('Mitchell Admin', 'admin@yourcompany.example.com', 1, 'Chief Executive Officer', NULL, 1, '2019-01-07'),
  ('Marc Demo', 'mark.brown23@example.com', 2, 'Experienced Developer', 1, 1, '2021-03-15'),
  ('Beth Evans', 'beth.evans77@example.com', 2, 'Marketing and Community Manager', 1, NULL, '2022-06-01');
