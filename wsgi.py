from membership import create_app

app = create_app()
