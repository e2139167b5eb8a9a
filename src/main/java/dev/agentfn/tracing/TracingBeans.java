package dev.agentfn.tracing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import dev.agentfn.config.Secrets;
import dev.agentfn.mlflow.MlflowAccess;
import dev.agentfn.mlflow.OtlpBatchLimits;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.ExportOrder;
import dev.agentfn.tracing.export.MlflowTraceExporter;
import dev.agentfn.tracing.export.TraceExporter;
import dev.agentfn.tracing.spool.DirectoryTraceSpool;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceCodec;
import dev.agentfn.tracing.spool.TraceSpool;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/** Builds the tracing side once at start-up. */
@Singleton
public class TracingBeans {
    private static final Logger LOG = Logger.getLogger(TracingBeans.class);
    /**
     * Spool writes (fsync) stay off the event loop; bounded, callers run when full, and after shutdown too (a task
     * dropped then would leave a future that never completes, and a copy that never leaves the spool). Eight threads because
     * a write mostly waits on the disk and the spool lets writes proceed in parallel: when MLflow falls
     * behind, a whole burst of answers waits on these writes at once.
     */
    private final ExecutorService spoolExecutor = new ThreadPoolExecutor(8, 8, 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(4096), daemon("agentfn-spool"), (task, pool) -> task.run());
    /**
     * Redelivery passes get their own thread: a pass joins one export after another and must never
     * hold up the spooling of a live answer. One pass runs, at most one waits; more nudges are dropped.
     */
    private final ExecutorService drainExecutor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(1), daemon("agentfn-spool-drain"), new ThreadPoolExecutor.DiscardPolicy());

    @jakarta.inject.Inject
    jakarta.inject.Provider<SpoolDrainer> drainer;

    @Produces
    @Singleton
    Tracer tracer(AgentfnConfig config, TraceExporter exporter, Secrets secrets) {
        AgentfnConfig.Tracing t = config.tracing();
        AttributePolicy policy = new AttributePolicy(!"metadata-only".equals(t.content()), t.maxAttributeChars(),
                t.redactPatterns().orElse(List.of()), secrets.values());
        return new Tracer(SpanClock.SYSTEM, policy, t.recordStackTraces(), exporter.enabled());
    }

    @Produces
    @Singleton
    TraceExporter exporter(AgentfnConfig config, MlflowAccess mlflow) {
        if (!config.tracing().enabled() || !mlflow.configured()) {
            return disabled();
        }
        LOG.infof("Tracing to MLflow at %s", mlflow.trackingUri());
        AgentfnConfig.Batch b = config.tracing().batch();
        return new MlflowTraceExporter(mlflow.traces(), mlflow.experiment(),
                new OtlpBatchLimits(b.maxSpans(), b.maxBytes(), b.maxRequestsInFlight()));
    }

    @Produces
    @Singleton
    TraceLookup lookup(AgentfnConfig config, MlflowAccess mlflow) {
        return config.tracing().enabled() && mlflow.configured()
                ? new dev.agentfn.tracing.export.MlflowTraceLookup(mlflow.tracking(), mlflow.experiment()) : TraceLookup.NONE;
    }

    /**
     * The spool directory is the configured root's subdirectory for this destination, so deployments that
     * share a host or a volume keep apart. Files an older agentfn left in the root itself record no
     * destination: they are not sent anywhere on a guess, and the log says how to hand them over.
     */
    @Produces
    @Singleton
    TraceSpool spool(AgentfnConfig config, ObjectMapper json, TraceExporter exporter) {
        Path root = config.tracing().spool().directory();
        try {
            Path dir = DirectoryTraceSpool.directoryFor(root, exporter.destination());
            long unlabelled = DirectoryTraceSpool.unlabelledIn(root);
            if (unlabelled > 0) {
                LOG.warnf("%d spooled traces in %s record no destination (an older agentfn wrote them) and are not "
                        + "redelivered; if they belong to %s, move them into %s", unlabelled, root,
                        exporter.destination(), dir);
            }
            return new DirectoryTraceSpool(dir, exporter.destination(), config.tracing().spool().maxTraces(),
                    new TraceCodec(json));
        } catch (IOException e) {
            throw new UncheckedIOException("agentfn.tracing.spool.directory is not writable", e);
        }
    }

    @Produces
    @Singleton
    SpoolDrainer drainer(TraceSpool spool, TraceExporter exporter, AgentfnConfig config) {
        AgentfnConfig.Spool s = config.tracing().spool();
        // a trace's write is a few requests to MLflow, each with its timeout: the bound only guards against a bug
        ExportOrder order = new ExportOrder(spoolExecutor, config.mlflow().requestTimeout().multipliedBy(10));
        return new SpoolDrainer(spool, exporter, order, s.drainBatch(), s.drainConcurrency(), s.maxAttempts(),
                config.mlflow().requestTimeout(), drainExecutor);
    }

    @Produces
    @Singleton
    TraceDelivery delivery(TraceExporter exporter, TraceSpool spool, SpoolDrainer drainer, AgentfnConfig config) {
        if (!exporter.enabled()) {
            LOG.info("Tracing is off: no MLflow tracking URI (MLFLOW_TRACKING_URI) or agentfn.tracing.enabled=false");
        }
        return new TraceDelivery(exporter, spool, drainer, config.tracing().exportTimeout(), spoolExecutor,
                config.tracing().maxExportsInFlight());
    }

    @Scheduled(every = "${agentfn.tracing.spool.drain-interval:30s}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void drainPeriodically() {
        drainer.get().tick();
    }

    /** Lets exports in flight finish first (at most the export timeout), then stops the spool's threads and closes it. */
    void stop(@Observes ShutdownEvent event, TraceDelivery delivery, TraceSpool spool, AgentfnConfig config) {
        delivery.awaitExports(config.tracing().exportTimeout());
        spoolExecutor.shutdown();
        try {
            // a confirmed export's last step, deleting its spooled copy, runs here
            spoolExecutor.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        spool.close(); // copies spooled ahead of exports that did not end go where the next process finds them
        drainExecutor.shutdown();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Tracing off: nothing is exported and answers say {@code trace.export: disabled}. */
    static TraceExporter disabled() {
        return new TraceExporter() {
            @Override
            public CompletableFuture<ExportResult> export(dev.agentfn.mlflow.entities.Trace trace) {
                return CompletableFuture.completedFuture(ExportResult.failure(false, "tracing is off"));
            }

            @Override
            public String destination() {
                return "nowhere (tracing off)";
            }

            @Override
            public boolean enabled() {
                return false;
            }
        };
    }
}
