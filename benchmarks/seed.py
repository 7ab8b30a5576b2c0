"""How long ``ketaclinic demo --scale`` takes to seed clinic-years into a clinic.

    .venv/bin/python benchmarks/seed.py sqlite:///path/to/copy.db 1

Seeds ``YEARS`` clinic-years (``demo.scale.seed``, what the command runs, sealing
included) into the database at ``URL`` (a copy of a demo clinic: it is grown for good)
and prints one JSON line: wall and CPU seconds (this process's: on PostgreSQL the
server's share is not in it) and the rows written. For a baseline in the same run, run
it again on a second copy with another checkout's sources first on the path
(``PYTHONPATH=/work/main/src``): the line names the code that ran.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    url, years = sys.argv[1], float(sys.argv[2])
    from ketaclinic.demo import scale
    from ketaclinic.platform.db import make_engine, make_session_factory
    from ketaclinic.platform.model_registry import load_all

    load_all()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    checkpoint = Path(sys.argv[3]) if len(sys.argv) > 3 else Path("seed-checkpoint.json")
    factory.configure(info={"audit_key": b"benchmark-key", "audit_checkpoint": str(checkpoint)})
    with factory() as db:
        wall, cpu = time.perf_counter(), time.process_time()
        made = scale.seed(db, clinic_years=years, seed=11)
        db.commit()
        print(
            json.dumps(
                {
                    "code": scale.__file__,
                    "clinic_years": years,
                    "wall_s": round(time.perf_counter() - wall, 1),
                    "cpu_s": round(time.process_time() - cpu, 1),
                    "patients": made.patients,
                    "sessions": made.sessions,
                    "vital_signs": made.vital_signs,
                    "audit_rows": made.audit_rows,
                }
            )
        )
    engine.dispose()


if __name__ == "__main__":
    main()
