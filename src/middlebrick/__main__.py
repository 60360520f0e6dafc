from middlebrick.cli import main

main()
