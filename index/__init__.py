"""The library: catalog (SQLite, source of truth), Whoosh index (derived), exports."""
