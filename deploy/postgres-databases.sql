-- One PostgreSQL server, one database per owner: each subgraph owns its data, the gateway's access
-- log (NEN 7513) and webhook store are separate again. Run once by the postgres image on an empty
-- data volume (compose.yaml mounts this file into /docker-entrypoint-initdb.d/).
CREATE DATABASE indicatiestelling;
CREATE DATABASE plaatsing;
CREATE DATABASE forensisch_cv;
CREATE DATABASE kwaliteit;
CREATE DATABASE audit;
CREATE DATABASE webhooks;
