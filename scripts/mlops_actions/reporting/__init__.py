"""Reports (gate, monitor) as one model drawn several ways: Markdown with Mermaid charts, a
self-contained HTML page with inline SVG, and plain text for a terminal. Pure; shared by the
actions, importing none of them."""
