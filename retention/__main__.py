from retention.cli import app

app()
