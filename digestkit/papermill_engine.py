"""The papermill engine that runs notebooks on a kept kernel (:mod:`digestkit.kernel`).

papermill loads this module itself, through the ``papermill.engine`` entry point
``digestkit-warm-kernel`` (see pyproject.toml), while it is importing its own engines; digestkit
only names the engine. The engine is kept out of :mod:`digestkit.kernel` for that reason: a
module that papermill loads as it starts must not be the one whose import starts papermill.
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine

__all__ = ["WarmKernelEngine"]


class WarmKernelEngine(NBClientEngine):  # type: ignore[misc]  # papermill is untyped
    """nbclient's engine, run with the client :meth:`WarmKernel.session` prepared.

    papermill passes ``km`` on to nbclient but not a client; this engine hands nbclient the
    client whose kernel namespace was just reset, so that is the one that runs the notebook.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        *,
        km: Any,
        kc: Any,
        **kwargs: Any,
    ) -> Any:
        """Execute ``nb_man``'s notebook on the kept kernel ``km`` through its client ``kc``."""
        kwargs.pop("input_path", None)
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            startup_timeout=start_timeout,
            timeout=execution_timeout,
            **kwargs,
        )
        client.kc = kc
        return client.execute()
