import sys

from bestbox.cli import main

sys.exit(main())
