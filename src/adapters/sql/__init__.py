"""Task storage in SQL databases: SQLite (embedded default) and PostgreSQL (production).

`engine.make_engine(url)` builds the engine, `migrate.upgrade(engine)` brings the
schema up to date, `sqlite.SqliteTaskRepository` / `postgres.PostgresTaskRepository`
store tasks, and `notify.PostgresListener` wakes workers on enqueue. Nothing is
imported here, so using SQLite never loads the PostgreSQL driver.
"""
