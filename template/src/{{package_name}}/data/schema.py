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

# raw transactions
AMOUNT = "amount"
MERCHANT_CATEGORY = "merchant_category"
COUNTRY = "country"

# labels
IS_FRAUD = "is_fraud"

# quarantine
REJECT_REASON = "reject_reason"
ROW_HASH = "row_hash"
