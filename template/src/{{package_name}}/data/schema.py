"""Column names, defined once. Raw tables, feature tables and the model all use these."""

# identifiers and times
CUSTOMER_ID = "customer_id"
TRANSACTION_ID = "transaction_id"
EVENT_TS = "event_ts"  # when the transaction happened
FEATURE_TS = "feature_ts"  # from when a customer feature row is known
LABEL_TS = "label_ts"  # when the fraud label arrived

# raw customers
HOME_COUNTRY = "home_country"
SEGMENT = "segment"
# attributes a fairness review groups customers by: read by `validate` and `monitor` only, never
# model features (conf/project.yml, fairness.attributes)
AGE_BAND = "age_band"
REGION = "region"
CUSTOMER_ATTRIBUTES = (HOME_COUNTRY, SEGMENT, AGE_BAND, REGION)

# raw transactions
AMOUNT = "amount"
MERCHANT_CATEGORY = "merchant_category"
COUNTRY = "country"

# labels
IS_FRAUD = "is_fraud"

# lineage and quarantine
ROW_HASH = "row_hash"  # the raw row a feature row or a quarantined row comes from
REJECT_REASON = "reject_reason"
HELD = "held"  # quarantined from a batch that failed contract.max_reject_rate: not yet accepted

# The columns the features step reads, with their Spark types: the data contract's schema.
# Extra columns in the raw tables are ignored.
RAW_TRANSACTIONS = {
    TRANSACTION_ID: "string",
    CUSTOMER_ID: "string",
    EVENT_TS: "timestamp",
    AMOUNT: "double",
    MERCHANT_CATEGORY: "string",
    COUNTRY: "string",
}
RAW_CUSTOMERS = {CUSTOMER_ID: "string", HOME_COUNTRY: "string"}
