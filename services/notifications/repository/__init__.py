"""The notifications service's SQL, the only code that speaks to its tables: subscriptions and deliveries."""
