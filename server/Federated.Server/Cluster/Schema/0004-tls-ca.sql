-- Version 4: the cluster's TLS CA (Server:Tls), made by the first silo that needs it, one per service: every silo
-- issues its own server certificate from it, so clients trust one CA fingerprint whichever silo they reach.
CREATE TABLE federated_tls_ca
(
    service_id      varchar(150) PRIMARY KEY,
    certificate_pem text         NOT NULL,
    key_pem         text         NOT NULL,
    created_at      timestamptz  NOT NULL DEFAULT now()
);
