from digestkit.cli import main

raise SystemExit(main())
