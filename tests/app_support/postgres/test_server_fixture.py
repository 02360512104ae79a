import psycopg

from tests.servers.postgres_server import PostgresDatabase, PostgresServer


def test_server_accepts_password_login_and_restarts(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app",)
    postgres_server.restart()
    with psycopg.connect(postgres_server.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_module_database(postgres_database: PostgresDatabase) -> None:
    with psycopg.connect(postgres_database.url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (postgres_database.name,)
