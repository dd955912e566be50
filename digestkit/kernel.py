"""Jupyter kernels for digest notebooks: one kept warm across runs, each run in an empty namespace.

:class:`WarmKernel` owns the kernel; papermill runs a notebook on it through the engine
``digestkit-warm-kernel`` (:class:`digestkit.papermill_engine.WarmKernelEngine`, registered with
papermill through the ``papermill.engine`` entry point).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_core.utils import run_sync

from digestkit.exceptions import NotebookError

__all__ = ["ENGINE_NAME", "KERNEL_ARGS", "KERNEL_NAME", "PRELOAD", "WarmKernel"]

KERNEL_NAME = "python3"
#: The papermill engine that runs on a :class:`WarmKernel` (the entry point's name).
ENGINE_NAME = "digestkit-warm-kernel"
#: The kernel's own start-up warnings (e.g. about local TCP) are noise for the runner.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
#: What the digest notebook imports (its cells import brief and render; building the brief
#: imports the rest, pandas and the sources with them): a kept kernel imports it as soon as it
#: is up, while the runner builds the first digest, not in the first notebook with the runner
#: waiting.
PRELOAD = (
    "digestkit.brief",
    "digestkit.render",
    "digestkit.digest",
    "digestkit.workspace",
    "digestkit.policy",
    "digestkit.screen",
)
# Imports without binding a name (silent: no result is stored), so even a kernel that ran it
# after a reset would hold an empty namespace.
_PRELOAD = "[__import__(name) for name in {modules!r}]"
# Run before each notebook on a kept kernel: forget every name the last notebook defined and
# start in the new notebook's folder. Imported modules stay loaded; that is the saving.
# ``%reset`` ends with two full garbage collections, which over a heap holding pandas and the
# loaded sources took longer than the notebook itself; with every object frozen meanwhile they
# find nothing to scan, and unfreezing hands all of it back to the collector's oldest generation,
# so the last notebook's reference cycles are still freed, by the collector's own schedule.
_RESET = (
    "__import__('gc').freeze()\n"
    "try:\n"
    "    get_ipython().run_line_magic('reset', '-f')\n"
    "finally:\n"
    "    __import__('gc').unfreeze()\n"
    "__import__('os').chdir({cwd!r})"
)


class WarmKernel:
    """A Python kernel kept across notebook runs, each run starting from an empty namespace.

    Starting a kernel and importing pandas and digestkit in it is most of what one event costs,
    so ``digestkit watch`` and ``digestkit run`` keep one kernel per process. Before each
    notebook the kernel's user namespace is reset (``%reset -f``) and its working directory set;
    after a failed run the kernel is replaced. The kernel starts on first use; use the object as
    a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        kernel_name: str = KERNEL_NAME,
        *,
        timeout: float = 60,
        preload: tuple[str, ...] = PRELOAD,
    ) -> None:
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.preload = preload
        self.km: Any = None  # jupyter_client's AsyncKernelManager (untyped)
        self._preloading: tuple[Any, str] | None = None  # (client, request id) until answered
        self.starts = 0  # kernels started, for tests and benchmarks
        self.runs = 0  # notebooks run on the current kernel

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the kernel unless it is running, without waiting for it to be ready.

        The event runner starts it before it builds a digest, so the kernel boots, and imports
        the modules of ``preload``, meanwhile.
        """
        # The async manager and client are what nbclient creates itself; both it and we drive
        # them through jupyter_core's run_sync, so they share one event loop.
        from jupyter_client.manager import AsyncKernelManager

        if self.km is None or not run_sync(self.km.is_alive)():
            self.close()
            self.km = AsyncKernelManager(kernel_name=self.kernel_name)
            run_sync(self.km.start_kernel)(extra_arguments=KERNEL_ARGS)
            self.starts, self.runs = self.starts + 1, 0
            if self.preload:
                kc = self.km.client()
                kc.start_channels()
                code = _PRELOAD.format(modules=self.preload)
                self._preloading = kc, kc.execute(code, silent=True, store_history=False)

    @contextmanager
    def session(self, cwd: Path) -> Iterator[Any]:
        """A client of the kept kernel, its namespace emptied and its directory ``cwd``.

        A fresh client per notebook: nbclient leaves the one it ran with unable to take another
        request, while the kernel itself is fine.
        """
        self.start()
        try:
            # Clients of one kernel manager share a ZMQ identity, so the kernel's replies go to
            # one of them: the preloading client is done before this one connects.
            run_sync(self._preloaded)()
        except BaseException:
            self.close()
            raise
        kc = self.km.client()
        kc.start_channels()
        try:
            run_sync(self._wait_ready)(kc)
            reply = run_sync(kc.execute_interactive)(
                _RESET.format(cwd=str(cwd)), store_history=False, timeout=self.timeout
            )
            content = reply["content"]
            if content["status"] != "ok":
                raise NotebookError(
                    cwd,
                    ename=content.get("ename", ""),
                    evalue=content.get("evalue", ""),
                    reason="could not reset the kept kernel; run it again",
                )
            self.runs += 1
            yield kc
        except BaseException:
            self.close()  # a kernel that failed a run is not trusted with the next one
            raise
        finally:
            kc.stop_channels()

    async def _preloaded(self) -> None:
        """Return once the kernel has run the preload request (whether or not it succeeded: a
        notebook that needs a module that failed meets the error itself)."""
        if self._preloading is None:
            return
        kc, msg_id = self._preloading
        try:
            await self._reply(kc, msg_id)
        finally:
            kc.stop_channels()
            self._preloading = None

    async def _reply(self, kc: Any, msg_id: str) -> None:
        """Return once ``kc`` has the kernel's reply to its request ``msg_id``."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                reply = await kc.get_shell_msg(timeout=1)
            except Empty:
                if not await self.km.is_alive():
                    raise RuntimeError("the kept kernel died before it answered") from None
                continue  # a busy machine: the request is queued, keep waiting for its reply
            if reply["parent_header"].get("msg_id") == msg_id:
                return
        raise RuntimeError(f"the kept kernel did not answer within {self.timeout:g} s")

    async def _wait_ready(self, kc: Any) -> None:
        """Return once the kernel answers ``kc`` on the shell channel and on IOPub.

        What jupyter_client's ``wait_for_ready`` checks, without its last step: waiting for IOPub
        to stay quiet for 0.2 s, most of a warm event's session. Messages left unread there do
        no harm: nbclient and ``execute_interactive`` match replies to their own request's id.
        """
        deadline = time.monotonic() + self.timeout
        msg_id = kc.kernel_info()
        while time.monotonic() < deadline:
            await self._reply(kc, msg_id)
            # ZMQ drops what a kernel publishes before the subscriber is connected: this
            # request's own status on IOPub shows the subscription is live.
            try:
                while True:
                    msg = await kc.get_iopub_msg(timeout=0.2)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        return
            except Empty:
                msg_id = kc.kernel_info()  # published before we listened: ask again
        raise RuntimeError(f"the kept kernel did not answer within {self.timeout:g} s")

    def close(self) -> None:
        """Shut the kernel down (safe to call twice)."""
        if self._preloading is not None:
            self._preloading[0].stop_channels()
            self._preloading = None
        if self.km is not None and self.km.has_kernel:
            run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None
