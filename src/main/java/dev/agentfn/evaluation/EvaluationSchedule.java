package dev.agentfn.evaluation;

import dev.agentfn.Futures;
import dev.agentfn.LogText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.config.AgentfnConfig;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled.ConcurrentExecution;
import io.quarkus.scheduler.Scheduler;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs an evaluation on a cron schedule in this process ({@code agentfn.evaluation.schedule.*}). A
 * trigger waits for its evaluation to settle; a trigger that comes while the previous one still runs
 * is skipped. With a time budget, each trigger continues the previous trigger's unfinished run.
 */
@Singleton
public class EvaluationSchedule {
    static final String JOB = "agentfn-evaluation-schedule";
    private static final Logger LOG = Logger.getLogger(EvaluationSchedule.class);

    private final Evaluations evaluations;
    private final Scheduler scheduler;
    private final ObjectMapper json;
    private final AgentfnConfig.Schedule config;
    private volatile EvaluationRun last;

    public EvaluationSchedule(Evaluations evaluations, Scheduler scheduler, ObjectMapper json, AgentfnConfig config) {
        this.evaluations = evaluations;
        this.scheduler = scheduler;
        this.json = json;
        this.config = config.evaluation().schedule();
    }

    /**
     * Static so that without a cron nothing is built at start: the instance pulls in the whole
     * evaluation graph (HTTP clients, TLS context), which a function that never evaluates should not pay
     * for in its cold start.
     */
    static void onStart(@Observes StartupEvent event, AgentfnConfig config,
            jakarta.inject.Provider<EvaluationSchedule> schedule) {
        if (config.evaluation().schedule().cron().isPresent()) {
            schedule.get().scheduleConfigured();
        }
    }

    private void scheduleConfigured() {
        Supplier<String> request;
        if (config.request().isPresent()) {
            String text = config.request().get();
            request = () -> text;
        } else if (config.requestFile().isPresent()) {
            Path file = config.requestFile().get();
            request = () -> read(file);
        } else {
            throw new IllegalStateException("agentfn.evaluation.schedule.cron is set but neither "
                    + "agentfn.evaluation.schedule.request nor agentfn.evaluation.schedule.request-file");
        }
        schedule(JOB, config.cron().get(), request);
        LOG.infof("evaluation scheduled: cron '%s'", config.cron().get());
    }

    /** Registers a job; also used by tests with a fast cron. A bad cron expression fails here, at startup. */
    public void schedule(String identity, String cron, Supplier<String> request) {
        if (!evaluations.available()) {
            throw new IllegalStateException("a scheduled evaluation needs MLflow (MLFLOW_TRACKING_URI)");
        }
        scheduler.newJob(identity).setCron(cron).setConcurrentExecution(ConcurrentExecution.SKIP)
                .setTask(execution -> trigger(request)).schedule();
    }

    public void unschedule(String identity) {
        scheduler.unscheduleJob(identity);
    }

    /** The evaluation the latest trigger started, or {@code null}. */
    public EvaluationRun last() {
        return last;
    }

    private void trigger(Supplier<String> request) {
        try {
            JsonNode body = json.readTree(request.get());
            EvaluationRun run = evaluations.start(evaluations.plan(body).withSource(RunSource.SCHEDULE)).get(2, TimeUnit.MINUTES);
            last = run;
            run.settled().get();
            LOG.infof("scheduled evaluation %s (MLflow run %s): %s, %d/%d rows", run.id(), run.runId(),
                    run.status(), run.doneRows(), run.totalRows());
        } catch (EvaluationException e) {
            LOG.errorf("scheduled evaluation not started, bad request: %s", LogText.escape(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.errorf("scheduled evaluation failed: %s", LogText.escape(Futures.message(e)));
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new EvaluationException("agentfn.evaluation.schedule.request-file " + file + ": " + e.getMessage());
        }
    }
}
