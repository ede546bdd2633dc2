"""The user's own data: documents (data.documents) and records (data.records)."""
