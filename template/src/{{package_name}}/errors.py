"""Errors a user can act on. Each message names the problem and the fix."""


class PipelineError(Exception):
    """Base class: the CLI prints these without a traceback and exits non-zero."""

    exit_code = 1


class ConfigError(PipelineError):
    exit_code = 2


class TableNotFoundError(PipelineError):
    def __init__(self, table: str, location: str, produced_by: str | None = None) -> None:
        hint = f" Run the `{produced_by}` step first (`run {produced_by}`)." if produced_by else ""
        super().__init__(f"table '{table}' does not exist ({location}).{hint}")
        self.table = table


class DataContractError(PipelineError):
    """Too many raw rows break the data contract."""
