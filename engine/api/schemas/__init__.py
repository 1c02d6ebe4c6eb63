"""Request and response schemas, one module per resource, one class per direction."""
