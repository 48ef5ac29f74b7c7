"""One module per dataset format; each converts its rows into the native Problem record."""
