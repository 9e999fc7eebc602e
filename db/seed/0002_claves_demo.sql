-- Demo sign-in: every demo user's password is VetRed-Demo-2026 (see the
-- README).  The hash was made with
--   printf VetRed-Demo-2026 | build/release/vetred-admin hash
-- Demo data only: a real deployment sets each password with
-- vetred-admin clave EMAIL or through the API.
UPDATE usuarios SET password_hash = '$argon2id$v=19$m=19456,t=2,p=1$mmGjJDBmWMNBN3sTs39m2g$4EbUAuhjvTTyH/JSbX4kkDJe0DVsWoW7baGyQIP3bF4'
WHERE email LIKE '%@vetred.pe' AND password_hash IS NULL;
