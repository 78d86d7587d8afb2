"""Server-rendered HTML pages, one module per page (each with its ``router``)."""
