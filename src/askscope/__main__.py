"""python -m askscope"""

from askscope.cli.main import main

main()
