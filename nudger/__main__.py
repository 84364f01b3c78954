from nudger.cli import cli

cli()
