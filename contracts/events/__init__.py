"""Event data models, one module per area of the collaboration."""
