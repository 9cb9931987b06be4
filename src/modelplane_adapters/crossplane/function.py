"""The composition function: one servicer for every Modelplane kind.

:func:`run_function` is the whole function as a plain synchronous call —
translate the request, dispatch on the composite's kind to the core composer,
translate the composition back. It never raises: a malformed request, a kind
this build cannot compose, a composer that crashes or returns something that
cannot be sent, all become a response with one Fatal result whose message says
what was wrong, and with the observed composed resources kept in desired.

:class:`FunctionRunner` is the gRPC servicer around it. It owns what the
function remembers between calls: a :class:`~modelplane_core.Cache` (CEL
outcomes, pool matching and fits by content, the fleet's scheduler views) and
a :class:`~modelplane_core.compose.Decoder` (each object version decoded
once), both bounded, so memory stays flat however many calls it serves.
Composers are CPU-bound pure Python and take milliseconds, so by default each
call composes on the event loop itself: measured, that answers faster and
holds less memory than handing the call to a worker thread (which waits for
the GIL the loop holds, and lets the loop decode ever more queued requests
into memory meanwhile); calls wait in gRPC's own queue as bytes instead. An
``executor`` can still be given; the core is thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import grpc
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.crossplane.logsafe import printable, printable_traceback
from modelplane_adapters.crossplane.translate import (
    REASON_COMPOSE_FAILED,
    REASON_UNSUPPORTED_KIND,
    Composite,
    RequestError,
    describe,
    fatal_response,
    observed_from_request,
    raw_composite,
    response_from_composition,
    target_for,
)
from modelplane_core import api
from modelplane_core.cache import Cache
from modelplane_core.compose import Composition, Decoder, Observed, composer_for

LOG = logging.getLogger("modelplane.function")
# Innermost frames logged for a composer crash. A RecursionError (a deeply nested
# CEL selector) carries thousands of frames; one bad object must not flood the log.
LOGGED_FRAMES = 40

Composer = Callable[[Observed[Any], Cache | None], Composition]
ComposerLookup = Callable[[type[api.Resource]], Composer]


def find_composer(cls: type[api.Resource]) -> Composer:
    """The core composer for ``cls``, or :class:`RequestError` if this build has none."""
    kind = cls.kind_info.kind
    try:
        return composer_for(cls)
    except KeyError:
        raise RequestError(
            REASON_UNSUPPORTED_KIND, f"this function has no composer for {kind}"
        ) from None
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("modelplane_core.compose"):
            raise
        raise RequestError(
            REASON_UNSUPPORTED_KIND,
            f"this build of the function has no composer for {kind} yet ({exc.name} is missing)",
        ) from None


def run_function(
    req: fnv1.RunFunctionRequest,
    *,
    lookup: ComposerLookup = find_composer,
    cache: Cache | None = None,
    decoder: Decoder | None = None,
) -> fnv1.RunFunctionResponse:
    """Compose for one request; never raises (see module doc).

    ``cache`` and ``decoder`` are what the caller remembers between requests
    (the servicer keeps one of each); without them nothing is remembered.
    """
    composite: Composite | None = None
    try:
        composite, observed = observed_from_request(req, decoder)
        composer = lookup(composite.cls)
        composition = composer(observed, cache)
        return response_from_composition(req, composition, target=target_for(composite.cls))
    except RequestError as exc:
        LOG.info(
            "tag=%s refused (%s): %s",
            printable(req.meta.tag),
            exc.reason,
            printable(exc.message),
        )
        target = target_for(composite.cls if composite else _kind_or_none(req))
        return fatal_response(req, exc.reason, exc.message, target=target)
    except Exception as exc:
        label = composite.label if composite else _label(req)
        trace = printable_traceback(exc, LOGGED_FRAMES)
        LOG.error(
            "tag=%s composing %s failed\n%s", printable(req.meta.tag), printable(label), trace
        )
        message = (
            f"composing {label} failed: {type(exc).__name__}: {exc}; "
            "the composed resources are kept as they are"
        )
        target = target_for(composite.cls if composite else None)
        return fatal_response(req, REASON_COMPOSE_FAILED, message, target=target)


def _label(req: fnv1.RunFunctionRequest) -> str:
    try:
        return describe(raw_composite(req))
    except Exception:
        return "the composite"


def _kind_or_none(req: fnv1.RunFunctionRequest) -> type[api.Resource] | None:
    try:
        raw = raw_composite(req)
        return api.kind_class(str(raw.get("apiVersion", "")), str(raw.get("kind", "")))
    except Exception:
        return None


class FunctionRunner(grpcv1.FunctionRunnerServiceServicer):
    """The gRPC servicer Crossplane calls; the SDK's runtime also serves it as v1beta1."""

    def __init__(
        self,
        *,
        executor: Executor | None = None,
        lookup: ComposerLookup = find_composer,
        cache: Cache | None = None,
        decoder: Decoder | None = None,
    ) -> None:
        self._executor = executor
        self._lookup = lookup
        self.cache = cache if cache is not None else Cache()
        self.decoder = decoder if decoder is not None else Decoder()

    async def RunFunction(  # the gRPC method name
        self, req: fnv1.RunFunctionRequest, context: grpc.aio.ServicerContext | None
    ) -> fnv1.RunFunctionResponse:
        started = time.perf_counter()
        try:
            if self._executor is None:
                rsp = self._run(req)
            else:
                rsp = await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._run, req
                )
        except Exception as exc:  # the executor itself failed (e.g. shut down)
            rsp = fatal_response(req, REASON_COMPOSE_FAILED, f"the function could not run: {exc}")
        LOG.debug(
            "tag=%s answered in %.1f ms: %d desired resources, %d results",
            printable(req.meta.tag),
            (time.perf_counter() - started) * 1000,
            len(rsp.desired.resources),
            len(rsp.results),
        )
        return rsp

    def _run(self, req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
        return run_function(req, lookup=self._lookup, cache=self.cache, decoder=self.decoder)
