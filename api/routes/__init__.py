"""HTTP routes, one module per resource; each route translates between HTTP and a call."""
