import sys

from rltf.cli import main

sys.exit(main())
