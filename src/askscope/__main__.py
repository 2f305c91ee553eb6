"""python -m askscope"""

from askscope.cli import main

main()
