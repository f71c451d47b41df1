-- Version 3: the dashboard's ASP.NET data-protection key ring (PostgresXmlRepository), shared by every silo so
-- that a sign-in cookie or antiforgery token one silo made is valid on all. One row per XML element the key
-- manager stores (a key, a revocation), per service: two services on one database keep separate rings.
CREATE TABLE federated_dashboard_keys
(
    service_id    varchar(150) NOT NULL,
    friendly_name varchar(200) NOT NULL,
    xml           text         NOT NULL,
    stored_at     timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, friendly_name)
);
