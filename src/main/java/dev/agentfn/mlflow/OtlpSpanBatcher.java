package dev.agentfn.mlflow;

import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.entities.SpanData;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Group commit of OTLP span exports. MLflow's cost per trace falls steeply with the traces per
 * {@code POST /v1/traces} (one transaction per request), so traces that finish while a request is in
 * flight go together in the next one. There is no timer: while a request slot is free a trace goes at
 * once, so a lone trace (Lambda, low load) waits for nothing; batches form only from the queue that
 * builds up while MLflow is busy, and grow with the load.
 *
 * <p>Requests carry one experiment and run id in their headers, so traces are queued per (experiment,
 * run): a lane. Each lane has {@link OtlpBatchLimits#maxRequestsInFlight} request slots.
 *
 * <p>MLflow stores a request all or nothing. When an answer can be about one trace's content (400,
 * 413, 422, 500) the batch is split in halves and each half sent again, down to the trace that fails
 * alone, so one bad trace fails only itself. Answers about the server or the experiment (timeouts,
 * 5xx overload, 404 unknown experiment, 501) are everyone's and are not split. Re-sending spans is
 * safe: MLflow upserts them by id, and the token totals come authoritatively from StartTraceV3 (3.17
 * also recomputes them from the stored spans rather than adding).
 */
public final class OtlpSpanBatcher {
    private final MlflowTraceClient client;
    private final OtlpBatchLimits limits;
    private final Map<LaneKey, Lane> lanes = new ConcurrentHashMap<>();

    public OtlpSpanBatcher(MlflowTraceClient client, OtlpBatchLimits limits) {
        this.client = client;
        this.limits = limits;
    }

    /**
     * Queues one trace's spans; the future completes with the answer to the request that carried them
     * (or, after a split, the smallest part that did), and never exceptionally except for invalid ids.
     */
    public CompletableFuture<OtlpExportResult> submit(String experimentId, String runId, List<SpanData> spans) {
        byte[] fragment;
        try {
            fragment = client.encodeSpans(spans);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Queued queued = new Queued(fragment, spans.size(), new CompletableFuture<>());
        LaneKey key = new LaneKey(experimentId, runId == null ? "" : runId);
        Lane lane = lanes.computeIfAbsent(key, Lane::new);
        List<Queued> batch;
        synchronized (lane) {
            lane.queue.add(queued);
            batch = lane.takeIfSlotFree(limits);
        }
        if (batch != null) {
            send(lane, batch);
        }
        return queued.result();
    }

    /** Traces waiting for a request slot, over all lanes (tests). */
    int queued() {
        int n = 0;
        for (Lane lane : lanes.values()) {
            synchronized (lane) {
                n += lane.queue.size();
            }
        }
        return n;
    }

    private void send(Lane lane, List<Queued> batch) {
        post(lane.key, batch).thenAccept(result -> {
            List<Queued> next;
            synchronized (lane) {
                lane.inFlight--;
                next = lane.takeIfSlotFree(limits);
                if (next == null && lane.inFlight == 0) {
                    // an idle lane is dropped, so lanes of finished runs do not pile up; a submit that
                    // still holds it is served by it all the same
                    lanes.remove(lane.key, lane);
                }
            }
            if (next != null) {
                send(lane, next);
            }
            settle(lane.key, batch, result);
        });
    }

    private CompletableFuture<OtlpExportResult> post(LaneKey key, List<Queued> batch) {
        List<byte[]> fragments = new ArrayList<>(batch.size());
        batch.forEach(q -> fragments.add(q.fragment()));
        try {
            return client.logEncodedSpansOtlp(key.experimentId(), key.runId(), fragments)
                    .exceptionally(t -> OtlpExportResult.failed(MlflowClientException.NO_RESPONSE, String.valueOf(t)));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(
                    OtlpExportResult.failed(MlflowClientException.NO_RESPONSE, "POST /v1/traces: " + e));
        }
    }

    /** Splits a batch whose failure may be one trace's doing; otherwise every trace gets the answer. */
    private void settle(LaneKey key, List<Queued> batch, OtlpExportResult result) {
        if (batch.size() > 1 && mayBeOneTracesDoing(result)) {
            int half = batch.size() / 2;
            for (List<Queued> part : List.of(batch.subList(0, half), batch.subList(half, batch.size()))) {
                post(key, part).thenAccept(r -> settle(key, part, r));
            }
            return;
        }
        batch.forEach(q -> q.result().complete(result));
    }

    private static boolean mayBeOneTracesDoing(OtlpExportResult result) {
        if (result.outcome() != OtlpExportResult.Outcome.FAILED) {
            return false;
        }
        int status = result.status();
        return status == 400 || status == 413 || status == 422 || status == 500;
    }

    /** One trace's encoded spans and the answer it waits for. */
    private record Queued(byte[] fragment, int spans, CompletableFuture<OtlpExportResult> result) {
    }

    /** Requests of one lane share these headers. */
    private record LaneKey(String experimentId, String runId) {
    }

    /** One (experiment, run)'s queue and busy request slots; guarded by its own monitor. */
    private static final class Lane {
        final LaneKey key;
        final ArrayDeque<Queued> queue = new ArrayDeque<>();
        int inFlight;

        Lane(LaneKey key) {
            this.key = key;
        }

        /** The next batch (oldest first, within the limits, at least one trace), if a slot is free; takes the slot. */
        List<Queued> takeIfSlotFree(OtlpBatchLimits limits) {
            if (queue.isEmpty() || inFlight >= limits.maxRequestsInFlight()) {
                return null;
            }
            List<Queued> batch = new ArrayList<>();
            long spans = 0;
            long bytes = 0;
            while (!queue.isEmpty()) {
                Queued next = queue.peek();
                boolean fits = spans + next.spans() <= limits.maxSpans() && bytes + next.fragment().length <= limits.maxBytes();
                if (!batch.isEmpty() && !fits) {
                    break;
                }
                batch.add(queue.poll());
                spans += next.spans();
                bytes += next.fragment().length;
            }
            inFlight++;
            return batch;
        }
    }
}
