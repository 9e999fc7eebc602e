-- Run once by the postgres image on a new data volume (docker-compose.yml
-- mounts it into /docker-entrypoint-initdb.d): the API's own role.  The
-- grants come with the migrations (db/migrations/0013_rol_api.sql), which
-- run as the owner, vetred, after this.  Change the password for any real
-- deployment (and VETRED_DATABASE_URL of the API services with it).
CREATE ROLE vetred_api LOGIN NOSUPERUSER PASSWORD 'vetred_api';
GRANT CONNECT ON DATABASE vetred TO vetred_api;
