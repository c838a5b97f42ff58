"""Build step that pyproject.toml cannot declare: the wheel carries the warehouse SQL.

The SQL lives in redshift/ at the top of the repository (SPEC section 4); Glue installs only
the wheel, so ``build_py`` copies redshift/**/*.sql and *.dqdl into the built package as
``rental_analytics/redshift/``, where ``warehouse.base.sql_dir()`` finds them. An editable
install (``pip install -e``) copies nothing: sql_dir() then reads redshift/ in the checkout.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SQL_SOURCE = "redshift"
SQL_PATTERNS = ("*.sql", "*.dqdl")
SQL_TARGET = Path("rental_analytics") / "redshift"  # inside the package


def sql_files() -> list[Path]:
    """The SQL files, relative to the repository root, in a stable order."""
    return sorted(
        p.relative_to(ROOT)
        for pattern in SQL_PATTERNS
        for p in (ROOT / SQL_SOURCE).rglob(pattern)
        if p.is_file()
    )


class BuildPyWithSql(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for relative in sql_files():
            target = Path(self.build_lib) / SQL_TARGET / relative.relative_to(SQL_SOURCE)
            self.mkpath(str(target.parent))
            self.copy_file(str(ROOT / relative), str(target))

    def get_source_files(self) -> list[str]:
        # So that an sdist carries redshift/ too, and a wheel built from it has the SQL.
        return [*super().get_source_files(), *(p.as_posix() for p in sql_files())]


setup(cmdclass={"build_py": BuildPyWithSql})
