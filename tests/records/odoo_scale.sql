-- Grows the Odoo-shaped test database to a mid-sized company's purchasing, for `bestbox data measure`
-- (not used by the tests): 2,000 vendors, 50,000 purchase orders with 4 lines each, 40,000 bills.
INSERT INTO res_partner (name, supplier_rank, country_id, city, email)
  SELECT 'Vendor ' || g, 1, 1 + g % 2, 'City ' || (g % 50), 'v' || g || '@example.com' FROM generate_series(1, 2000) g;
INSERT INTO purchase_order (name, partner_id, picking_type_id, date_order, date_planned, effective_date, state,
                            receipt_status, amount_total, user_id)
  SELECT 'PS' || g, 12 + (g * 7919) % 2000 + 1, 1, CURRENT_DATE - (g % 400), CURRENT_DATE - (g % 400) + 10,
         CASE WHEN g % 3 = 0 THEN CURRENT_DATE - (g % 400) + 12 END,
         (ARRAY['draft','sent','purchase','done','cancel'])[1 + g % 5], CASE WHEN g % 3 = 0 THEN 'full' END,
         100 + (g * 31) % 9000, 1 + g % 2
  FROM generate_series(1, 50000) g;
INSERT INTO purchase_order_line (order_id, product_id, product_qty, price_unit, price_subtotal)
  SELECT po.id, 1 + k % 3, 1 + k, 10, 10 * (1 + k) FROM purchase_order po, generate_series(0, 3) k WHERE po.name LIKE 'PS%';
INSERT INTO account_move (name, move_type, state, partner_id, invoice_date, invoice_date_due, invoice_origin,
                          amount_total, amount_residual, payment_state)
  SELECT 'BILL/S/' || po.id, 'in_invoice', 'posted', po.partner_id, po.date_order::date, po.date_order::date + 30,
         po.name, po.amount_total, CASE WHEN po.id % 4 = 0 THEN po.amount_total ELSE 0 END,
         CASE WHEN po.id % 4 = 0 THEN 'not_paid' ELSE 'paid' END
  FROM purchase_order po WHERE po.name LIKE 'PS%' AND po.id % 5 != 0;
ANALYZE;
