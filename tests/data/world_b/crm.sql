-- The CRM of world B, written by hand. tests/world_b.py builds crm.sqlite from this file.
-- Column order and names follow digestkit.sources.SCHEMAS; column_catalog marks the
-- sensitive columns as the sample CRM does. All names, contacts and clauses are fictional.

CREATE TABLE accounts (account_id TEXT NOT NULL PRIMARY KEY, account_name TEXT NOT NULL,
  tier TEXT NOT NULL, region TEXT NOT NULL, record_status TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE contacts (contact_id TEXT NOT NULL PRIMARY KEY, account_id TEXT NOT NULL,
  contact_name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT NOT NULL, role TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE entitlements (entitlement_id TEXT NOT NULL PRIMARY KEY, account_id TEXT NOT NULL,
  product_id TEXT NOT NULL, tier TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL,
  initial_response_minutes INTEGER NOT NULL, update_interval_minutes INTEGER NOT NULL,
  notification_variant TEXT, contract_clause TEXT, record_status TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE column_catalog (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  dtype TEXT NOT NULL, sensitive INTEGER NOT NULL, description TEXT NOT NULL);

INSERT INTO accounts VALUES
  ('ACC-B001', 'Kowalczyk Freight Systems GmbH', 'Premium Plus', 'EMEA', 'approved', '2025-11-03T09:00:00Z'),
  ('ACC-B002', 'Łukasiewicz Dental Group S.A.', 'Premium', 'EMEA', 'approved', '2025-11-04T09:00:00Z'),
  ('ACC-B003', 'Oyelowo Cold Storage Ltd', 'Premium', 'EMEA', 'approved', '2025-11-05T09:00:00Z'),
  ('ACC-B004', 'Harrow & Finch Legal LLP', 'Premium Plus', 'AMER', 'approved', '2025-11-06T09:00:00Z'),
  ('ACC-B005', 'Quintanilla Agritech S.L.', 'Standard', 'EMEA', 'pending', '2025-11-07T09:00:00Z');

INSERT INTO contacts VALUES
  ('CON-B001', 'ACC-B001', 'Zofia Kowalczyk', 'zofia.kowalczyk@kowalczyk-freight.example', '+48 22 555 0147', 'escalation contact', '2025-11-03T09:00:00Z'),
  ('CON-B002', 'ACC-B002', 'Mateus Albuquerque', 'mateus.albuquerque@lukasiewicz-dental.example', '+351 21 555 0199', 'escalation contact', '2025-11-04T09:00:00Z'),
  ('CON-B003', 'ACC-B003', 'Adaeze Oyelowo', 'adaeze.oyelowo@oyelowo-cold.example', '+44 161 555 0123', 'escalation contact', '2025-11-05T09:00:00Z'),
  ('CON-B004', 'ACC-B004', 'Tobias Page', 'tobias.page@harrow-finch.example', '+1 (415) 555-0188', 'escalation contact', '2025-11-06T09:00:00Z'),
  ('CON-B005', 'ACC-B004', 'Ingrid Solberg-Haugen', 'ingrid.solberg@harrow-finch.example', '+1 212 555 0142', 'technical contact', '2025-11-06T09:00:00Z');

INSERT INTO entitlements VALUES
  ('ENT-B001', 'ACC-B001', 'PRD-DATEXP', 'Premium Plus', '2026-01-01', '2026-12-31', 5, 15, 'contractual-5min-call', 'Clause 12.4: the supplier calls Kowalczyk Freight Systems GmbH''s duty desk within five (5) minutes of any Severity-1 declaration.', 'approved', '2025-12-01T09:00:00Z'),
  ('ENT-B002', 'ACC-B002', 'PRD-LEDGER', 'Premium', '2026-01-01', '2026-12-31', 30, 60, NULL, NULL, 'approved', '2025-12-01T09:00:00Z'),
  ('ENT-B003', 'ACC-B003', 'PRD-PAYAPI', 'Premium', '2026-01-01', '2026-12-31', 30, 60, NULL, NULL, 'approved', '2025-12-01T09:00:00Z'),
  ('ENT-B004', 'ACC-B004', 'PRD-PAYAPI', 'Premium Plus', '2026-01-01', '2026-12-31', 15, 30, NULL, 'Clause 4.1: Harrow & Finch Legal LLP receives a written summary of every Priority-1 incident within two business days.', 'approved', '2025-12-01T09:00:00Z'),
  ('ENT-B005', 'ACC-B005', 'PRD-PAYAPI', 'Standard', '2026-01-01', '2026-12-31', 240, 240, NULL, NULL, 'pending', '2025-12-01T09:00:00Z');

INSERT INTO column_catalog VALUES
  ('accounts', 'account_id', 'string', 0, 'Pseudonymous account id.'),
  ('accounts', 'account_name', 'string', 1, 'Customer''s legal name.'),
  ('accounts', 'tier', 'category', 0, 'Support tier.'),
  ('accounts', 'region', 'string', 0, 'Support region.'),
  ('accounts', 'record_status', 'category', 0, 'CRM record approval.'),
  ('accounts', 'updated_at', 'datetime', 0, 'Last change of the record (UTC).'),
  ('contacts', 'contact_id', 'string', 0, 'Contact id.'),
  ('contacts', 'account_id', 'string', 0, 'Account the contact belongs to.'),
  ('contacts', 'contact_name', 'string', 1, 'Person''s name.'),
  ('contacts', 'email', 'string', 1, 'E-mail address.'),
  ('contacts', 'phone', 'string', 1, 'Phone number.'),
  ('contacts', 'role', 'string', 0, 'Role.'),
  ('contacts', 'updated_at', 'datetime', 0, 'Last change of the record (UTC).'),
  ('entitlements', 'entitlement_id', 'string', 0, 'Entitlement id.'),
  ('entitlements', 'account_id', 'string', 0, 'Account entitled.'),
  ('entitlements', 'product_id', 'string', 0, 'Product in scope.'),
  ('entitlements', 'tier', 'category', 0, 'Support tier of this entitlement.'),
  ('entitlements', 'starts_on', 'date', 0, 'First day of the entitlement.'),
  ('entitlements', 'ends_on', 'date', 0, 'Last day of the entitlement.'),
  ('entitlements', 'initial_response_minutes', 'int', 0, 'Contracted initial response time.'),
  ('entitlements', 'update_interval_minutes', 'int', 0, 'Contracted update interval.'),
  ('entitlements', 'notification_variant', 'string', 0, 'Contractual notification variant.'),
  ('entitlements', 'contract_clause', 'string', 1, 'Contract clause text.'),
  ('entitlements', 'record_status', 'category', 0, 'Entitlement approval.'),
  ('entitlements', 'updated_at', 'datetime', 0, 'Last change of the record (UTC).');
