package dev.agentfn.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * All agentfn settings. Each property can be set in {@code application.properties} or as an
 * environment variable ({@code agentfn.invocation.deadline} is {@code AGENTFN_INVOCATION_DEADLINE}).
 * The variables Anthropic's and MLflow's own tools read ({@code ANTHROPIC_API_KEY},
 * {@code MLFLOW_TRACKING_URI}, ...) are mapped onto these in {@code application.properties}.
 */
@ConfigMapping(prefix = "agentfn")
public interface AgentfnConfig {

    /** Connection to the Anthropic Messages API. */
    Anthropic anthropic();

    /** Limits of one invocation. */
    Invocation invocation();

    /** What this deployment is: its system prompt and the MLflow logged model ("agent version") of its traces. */
    Agent agent();

    /** Limits on every request's line and headers, answered with problem documents. */
    Http http();

    /** The deployment's tool catalogue. */
    Tools tools();

    /** What is recorded into traces and how they are delivered. */
    Tracing tracing();

    /** Where traces go. */
    Mlflow mlflow();

    /** API keys that protect {@code /v1/**}. */
    Auth auth();

    /** Batch evaluation of the agent ({@code POST /v1/evaluations}). */
    Evaluation evaluation();

    /** The {@code claude-code} engine: the Claude Code CLI driven over stream-json, as the Agent SDK does. */
    ClaudeCode claudeCode();

    /** The Anthropic-compatible tracing gateway ({@code /v1/messages}, docs/gateway.md). */
    Gateway gateway();

    /**
     * Price table in USD per million tokens, keyed by model id (quote ids with dots:
     * {@code agentfn.prices."claude-sonnet-5-5".input=2}). A model without an entry costs 0 and is logged once.
     */
    Map<String, Price> prices();

    interface Anthropic {
        /** API key sent as {@code x-api-key}; defaults to {@code ANTHROPIC_API_KEY}. */
        Optional<String> apiKey();

        /** Bearer token for gateways, sent as {@code Authorization: Bearer}; defaults to {@code ANTHROPIC_AUTH_TOKEN}. */
        Optional<String> authToken();

        /** Base URL without {@code /v1}; defaults to {@code ANTHROPIC_BASE_URL} or the public API. */
        @WithDefault("https://api.anthropic.com")
        String baseUrl();

        /** Model used when a request names none; defaults to {@code ANTHROPIC_MODEL}. */
        @WithDefault("claude-sonnet-5-5")
        String defaultModel();

        /** Models a request may ask for. Empty: any model. The default model is always allowed. */
        Optional<List<String>> allowedModels();

        /** Value of the {@code anthropic-version} header. */
        @WithDefault("2023-06-01")
        String version();

        /** Extra {@code anthropic-beta} flags sent on every call. */
        Optional<List<String>> betas();

        /**
         * Retries after the first attempt, as the official SDKs do (408, 409, 429, 5xx, 529, connection errors).
         * The {@code claude-code} engine hands it to the CLI as {@code CLAUDE_CODE_MAX_RETRIES}.
         */
        @WithDefault("2")
        int maxRetries();

        /** Upper bound of a server-given {@code retry-after} that is honoured; longer hints fall back to back-off. */
        @WithDefault("60s")
        Duration maxRetryAfter();

        /** TCP connect timeout. */
        @WithDefault("10s")
        Duration connectTimeout();

        /**
         * Local stand-in for the Messages API: {@code never} (production default), {@code auto} (start it when
         * neither an API key nor an auth token is set; the demo uses this), {@code always}.
         */
        @WithDefault("never")
        String standIn();
    }

    interface Agent {
        /**
         * Name of the deployment's agent versions in MLflow (its logged models): each version is named
         * {@code <name>-[<label>-]<digest>}, the digest over what changes the agent's behaviour.
         */
        @WithDefault("agentfn")
        String name();

        /**
         * A label of the deployed build, e.g. a git commit or release; part of the version's name and identity.
         * Environment: {@code AGENTFN_AGENT_LABEL}.
         */
        Optional<String> label();

        /**
         * System prompt of requests that send none: text, or a registered prompt {@code prompts:/name/version} or
         * {@code prompts:/name@alias} (loaded from MLflow's Prompt Registry, {@code {{ variables }}} filled from the
         * request's {@code prompt_variables}). Absent: no system prompt.
         */
        Optional<String> systemPrompt();

        /**
         * How long a loaded registered prompt is used before MLflow is asked again, so a moved alias takes effect
         * without a restart. While MLflow is unreachable the cached version keeps serving (the trace says so).
         */
        @WithDefault("60s")
        Duration promptCacheTtl();

        /** How often the agent version is looked up again while MLflow could not be reached (at start or later). */
        @WithDefault("30s")
        Duration versionRetryInterval();
    }

    interface Invocation {
        /** Wall-clock budget of one invocation, trace export excluded. Keep it below an API gateway's timeout. */
        @WithDefault("25s")
        Duration deadline();

        /** Model turns allowed when a request gives no {@code max_turns}. */
        @WithDefault("10")
        int defaultMaxTurns();

        /** Largest {@code max_turns} a request may ask for. */
        @WithDefault("50")
        int maxTurnsLimit();

        /** {@code max_tokens} per model call when a request gives none. */
        @WithDefault("4096")
        int defaultMaxTokens();

        /** Largest request body accepted; larger bodies get 413. */
        @WithDefault("1M")
        io.quarkus.runtime.configuration.MemorySize maxBodySize();

        /**
         * Most {@code metadata} entries one request may carry; more get 400. Each entry becomes a trace tag, a
         * row MLflow writes one by one, so tens of thousands (which fit in 1 MiB) cannot be stored in time.
         */
        @WithDefault("50")
        int maxMetadataEntries();

        /** Longest {@code metadata} key, in characters: MLflow's trace tag keys hold 250 on every backend. */
        @WithDefault("250")
        int maxMetadataKeyLength();

        /**
         * Longest {@code metadata} value, in characters: MLflow guarantees trace tag values of 4096 characters
         * on every backend ({@code MAX_CHARS_IN_TRACE_INFO_TAGS_VALUE}); its SQL store would truncate at 8000.
         */
        @WithDefault("4096")
        int maxMetadataValueLength();

        /** Most entries in {@code messages}; a longer history gets 400 (each turn is recorded in the trace). */
        @WithDefault("1000")
        int maxMessages();

        /**
         * Deepest nesting of objects and arrays in a request body ({@code POST /v1/invocations} and
         * {@code /v1/evaluations}); deeper bodies get 400 before anything walks them recursively.
         */
        @WithDefault("64")
        int maxJsonDepth();
    }

    interface Http {
        /**
         * Longest request URI (path and query), in characters; longer gets a 414 problem. Keep it below
         * {@code quarkus.http.limits.max-initial-line-length} (16384 in application.properties): past that the
         * HTTP codec answers 414 itself, without a body, before any handler of ours runs.
         */
        @WithDefault("4096")
        int maxUriLength();

        /**
         * Largest total of header names and values; larger gets a 431 problem. Keep it below
         * {@code quarkus.http.limits.max-header-size} (64K in application.properties): past that the HTTP codec
         * answers 431 itself, without a body.
         */
        @WithDefault("20K")
        io.quarkus.runtime.configuration.MemorySize maxHeaderSize();
    }

    interface Tools {
        /** HTTP tools by name: the function POSTs the tool input as JSON to the URL and returns the body. */
        Map<String, HttpTool> http();

        /** Hosts HTTP tools may call; a tool whose URL host is not listed is refused at start-up. */
        Optional<List<String>> allowedHosts();

        /** Anthropic server tools ({@code web_search}, {@code web_fetch}, {@code code_execution}) by name. */
        Map<String, ServerTool> server();

        /** Remote MCP servers reached through Anthropic's MCP connector, by server name. */
        Map<String, McpServer> mcp();
    }

    interface HttpTool {
        /** Endpoint receiving {@code POST} with the tool input as JSON. */
        String url();

        /** Description shown to the model. */
        String description();

        /** JSON schema of the input, as a JSON object string. */
        @WithDefault("{\"type\":\"object\"}")
        String inputSchema();

        /** Time allowed for one call. */
        @WithDefault("10s")
        Duration timeout();

        /** Response bodies above this are cut and marked as truncated. */
        @WithDefault("64K")
        io.quarkus.runtime.configuration.MemorySize maxResponseSize();
    }

    interface ServerTool {
        /** Versioned tool type, e.g. {@code web_search_20250305}. */
        String type();

        /** Uses allowed per request ({@code max_uses}); absent: Anthropic's default. */
        Optional<Integer> maxUses();

        /** Domains the tool may reach ({@code allowed_domains}). */
        Optional<List<String>> allowedDomains();
    }

    interface McpServer {
        /** HTTPS endpoint of the MCP server (Anthropic's servers call it). */
        String url();

        /** OAuth token passed as {@code authorization_token}. */
        Optional<String> authorizationToken();

        /** Tools of the server that may be used; absent: all. */
        Optional<List<String>> allowedTools();
    }

    interface Tracing {
        /** Master switch. Tracing is also off when no MLflow tracking URI is configured. */
        @WithDefault("true")
        boolean enabled();

        /** {@code full} records prompts and answers; {@code metadata-only} records neither (timings, usage, ids stay). */
        @WithDefault("full")
        String content();

        /** Regular expressions; every match in a recorded string is replaced by {@code [REDACTED]}. */
        Optional<List<String>> redactPatterns();

        /** Recorded strings longer than this are cut and marked {@code …[truncated N chars]}. */
        @WithDefault("65536")
        int maxAttributeChars();

        /** Record stack traces of agentfn's own exceptions in exception events. */
        @WithDefault("false")
        boolean recordStackTraces();

        /** How long an invocation waits for MLflow to confirm its trace before spooling it. */
        @WithDefault("2s")
        Duration exportTimeout();

        /**
         * Trace exports waiting for MLflow at once (0: no bound). Beyond it the server is evidently behind,
         * so further traces go straight to the spool (the answer says {@code spooled}) instead of queueing
         * at the server and waiting out {@code export-timeout}; the drainer delivers them once it keeps up.
         * The default is about what a four-worker tracking server confirms within the 2 s timeout.
         */
        @WithDefault("64")
        int maxExportsInFlight();

        /** Durable store for traces MLflow did not confirm in time. */
        Spool spool();

        /** How traces share OTLP requests to MLflow (group commit). */
        Batch batch();
    }

    /**
     * Group commit of trace spans. A trace goes to MLflow at once while a request slot is free (no timer,
     * so a lone invocation, e.g. on AWS Lambda, waits for nothing); traces that finish while every slot is
     * busy share the next OTLP request, which costs MLflow far less per trace than one request each. Each
     * invocation still answers only after MLflow confirmed the request that carried its trace.
     */
    interface Batch {
        /**
         * OTLP requests per experiment (and evaluation run) waiting for MLflow at once; fewer make larger batches.
         * The default matches a four-worker tracking server: batches form only once every worker is busy.
         */
        @WithDefault("4")
        int maxRequestsInFlight();

        /** Spans per OTLP request at most; a trace with more goes alone. */
        @WithDefault("2000")
        int maxSpans();

        /** Encoded bytes (before gzip) per OTLP request at most; a larger trace goes alone. */
        @WithDefault("4194304")
        long maxBytes();
    }

    interface Spool {
        /**
         * Root directory of the spool; traces are kept in its subdirectory {@code to-<hash>} for this
         * deployment's destination (tracking server and experiment), so deployments sharing a host or a
         * volume never deliver each other's traces. On AWS Lambda only {@code /tmp} is writable and lives as
         * long as the instance.
         */
        @WithDefault("${java.io.tmpdir}/agentfn-spool")
        Path directory();

        /**
         * Files kept at most (one per trace, one per write of a trace written more than once, as a gateway turn);
         * when full the oldest is dropped and logged as lost.
         */
        @WithDefault("10000")
        int maxTraces();

        /** Period of the background redelivery. */
        @WithDefault("30s")
        Duration drainInterval();

        /** Traces redelivered per drain pass, oldest first. */
        @WithDefault("50")
        int drainBatch();

        /**
         * Redelivery exports in flight at once during a drain pass. A pass stops after two windows in a row
         * in which nothing was delivered and something failed retryably, so a server that is still down sees
         * at most twice this many attempts per pass.
         */
        @WithDefault("4")
        int drainConcurrency();

        /**
         * Drain passes in which MLflow stored other traces but not this one (it timed out or failed
         * retryably each time), after which the trace is moved to {@code rejected/} instead of being tried
         * forever. Failures while nothing gets through (an outage) do not count.
         */
        @WithDefault("5")
        int maxAttempts();
    }

    interface Mlflow {
        /** Tracking server, {@code databricks}, or empty (tracing off); defaults to {@code MLFLOW_TRACKING_URI}. */
        Optional<String> trackingUri();

        /** Experiment id; defaults to {@code MLFLOW_EXPERIMENT_ID}. */
        Optional<String> experimentId();

        /** Experiment name, created when missing; defaults to {@code MLFLOW_EXPERIMENT_NAME}. Used when no id is set. */
        Optional<String> experimentName();

        /** Bearer token; defaults to {@code MLFLOW_TRACKING_TOKEN}. */
        Optional<String> trackingToken();

        /** Basic-auth user; defaults to {@code MLFLOW_TRACKING_USERNAME}. */
        Optional<String> trackingUsername();

        /** Basic-auth password; defaults to {@code MLFLOW_TRACKING_PASSWORD}. */
        Optional<String> trackingPassword();

        /** Databricks workspace URL; defaults to {@code DATABRICKS_HOST}. */
        Optional<String> databricksHost();

        /** Databricks token; defaults to {@code DATABRICKS_TOKEN}. */
        Optional<String> databricksToken();

        /** Timeout of one MLflow HTTP request. */
        @WithDefault("10s")
        Duration requestTimeout();
    }

    interface Auth {
        /** Accepted bearer keys for {@code /v1/**}. No keys (here or in the file): the API is open. */
        Optional<List<String>> apiKeys();

        /** File with one accepted key per line (a mounted secret). */
        Optional<Path> apiKeysFile();

        /**
         * Named keys, user name to key ({@code agentfn.auth.users.alice=${ALICE_AGENTFN_KEY}}): accepted like
         * {@code api-keys}, and a request made with one is that user's. The gateway in {@code managed} mode records
         * the name as the trace's {@code mlflow.trace.user}, before any header or request metadata.
         */
        Map<String, String> users();
    }

    interface Gateway {
        /**
         * Serve {@code POST /v1/messages}, {@code POST /v1/messages/count_tokens}, {@code GET /v1/models} and
         * {@code GET /v1/models/{id}}, relayed to {@code agentfn.anthropic.base-url} and traced to MLflow.
         */
        @WithDefault("false")
        boolean enabled();

        /**
         * {@code passthrough}: the caller's own {@code x-api-key} or {@code Authorization} goes upstream unchanged;
         * {@code managed}: the caller presents an agentfn API key ({@code agentfn.auth.*}) and the deployment's
         * Anthropic credential ({@code agentfn.anthropic.api-key} / {@code auth-token}) goes upstream.
         */
        @WithDefault("passthrough")
        Credentials credentials();

        /** {@code full} records prompts, answers and tool input and output; {@code metadata} records neither. */
        @WithDefault("full")
        Capture captureContent();

        /**
         * What the answer that ends a turn waits for before its last event ({@code message_stop}). {@code mlflow}:
         * until MLflow confirmed the turn's trace (past {@code agentfn.tracing.export-timeout}, until it is spooled).
         * {@code spool}: until the trace is in the local spool (one fsync); its export follows, and MLflow's
         * confirmation deletes the spooled copy, so MLflow's write time leaves the answer. Choose {@code spool} only
         * where an instance keeps running after it answers and its spool directory outlives it (an always-on
         * container with a volume), never on Lambda or any platform that freezes or throttles an instance once it
         * has answered.
         */
        @WithDefault("mlflow")
        TurnEndWait turnEndWait();

        /** Largest request body the gateway reads; a larger one is refused with 413 {@code request_too_large}. */
        @WithDefault("32M")
        io.quarkus.runtime.configuration.MemorySize maxBodySize();

        /**
         * A turn whose next request has not come for this long is closed: its trace is written as ended, with an
         * {@code abandoned} error on its root (the instance that served its last request does this).
         */
        @WithDefault("10m")
        Duration turnIdleTimeout();

        /** Turns kept in memory per instance (a cache: state a turn needs is also kept in its MLflow trace). */
        @WithDefault("10000")
        int maxOpenTurns();

        /** Header naming the user ({@code mlflow.trace.user}) when no API key names one; else {@code metadata.user_id}. */
        @WithDefault("x-agentfn-user")
        String userHeader();

        /** Whose Anthropic credential goes upstream (see {@link #credentials()}). */
        enum Credentials {
            PASSTHROUGH, MANAGED
        }

        /** How much of a conversation the gateway's traces hold (see {@link #captureContent()}). */
        enum Capture {
            FULL, METADATA
        }

        /** What a turn's last answer waits for (see {@link #turnEndWait()}). */
        enum TurnEndWait {
            MLFLOW, SPOOL
        }
    }

    interface Price {
        /** USD per million input tokens. */
        BigDecimal input();

        /** USD per million output tokens. */
        BigDecimal output();

        /** USD per million cache-write tokens (5-minute). */
        @WithName("cache-write")
        Optional<BigDecimal> cacheWrite();

        /** USD per million cache-read tokens. */
        @WithName("cache-read")
        Optional<BigDecimal> cacheRead();
    }

    interface Evaluation {
        /** Agent invocations in flight at once, across all running evaluations. */
        @WithDefault("4")
        int agentConcurrency();

        /** Judge model calls in flight at once, across all running evaluations. */
        @WithDefault("4")
        int judgeConcurrency();

        /** Directory that file datasets are read from (paths resolve inside it). Absent: only inline rows. */
        Optional<Path> datasetRoot();

        /** Largest dataset accepted, in rows. */
        @WithDefault("10000")
        int maxRows();

        /** Model of judges that name none (without {@code anthropic:/}); absent: the default model. */
        Optional<String> judgeModel();

        /** {@code max_tokens} of one judge call. */
        @WithDefault("1024")
        int judgeMaxTokens();

        /** Time allowed for one judge call, the client's own retries included. */
        @WithDefault("60s")
        Duration judgeTimeout();

        /** Evaluations kept in memory for {@code GET /v1/evaluations/{id}}; finished ones are dropped first. */
        @WithDefault("100")
        int retained();

        /**
         * Time budget of one trigger of an evaluation that sets no {@code time_budget}: rows not started
         * within it are left for the next trigger of the same evaluation, which continues the same MLflow
         * run. Absent: evaluations run to the end and are not resumed.
         */
        Optional<Duration> timeBudget();

        /**
         * Trace every judgement: a trace of its own in the experiment (root span {@code EVALUATOR}, tag
         * {@code mlflow.trace.sourceScorer}), referenced from the assessment's {@code mlflow.assessment.scorerTraceId}.
         * Off by default, as {@code mlflow.genai.evaluate} traces scorers only when asked
         * ({@code MLFLOW_GENAI_EVAL_ENABLE_SCORER_TRACING}): otherwise every row adds one trace per judge to the
         * experiment's trace list, and an evaluation with two judges triples the trace writes.
         */
        @WithDefault("false")
        boolean traceJudges();

        /** An evaluation started on a cron schedule, in process (long-running deployments: JVM, Knative, Cloud Run). */
        Schedule schedule();

        /** The OpenAI-compatible chat-completions endpoint of {@code openai:/<model>} judges. */
        OpenAi openai();

        /**
         * Base URL of the deployed function itself ({@code https://….lambda-url….on.aws}, a Knative or
         * Cloud Run URL). Set: each row is sent as {@code POST <url>/v1/invocations} with
         * {@code X-Agentfn-Source-Run}, so the platform's concurrency fans the rows out and the instance
         * that runs a row traces it. Absent: rows run in this process.
         */
        Optional<java.net.URI> functionUrl();

        /**
         * Bearer key for {@code function-url} (the function only accepts the source run on authenticated
         * requests). Absent: the first of {@code agentfn.auth.api-keys}.
         */
        Optional<String> functionApiKey();

        /**
         * Time one fanned-out row may take, HTTP included; a row that gets no answer in time fails with an
         * error assessment. Absent: the invocation deadline plus 30 s (trace export and a cold start).
         */
        Optional<Duration> functionTimeout();
        /** Datasets given as an {@code https://} URL of a JSONL or CSV file ({@code "dataset": {"url": …}}). */
        DatasetUrls datasetUrls();

        /** Page size when reading the records of an MLflow evaluation dataset ({@code "dataset": {"mlflow_dataset": …}}). */
        @WithDefault("500")
        int mlflowDatasetPageSize();
    }

    interface OpenAi {
        /**
         * Base URL up to and including the API version; requests go to {@code <base>/chat/completions}.
         * Defaults to {@code OPENAI_BASE_URL}, else {@code https://api.openai.com/v1}.
         */
        @WithDefault("https://api.openai.com/v1")
        String baseUrl();

        /**
         * Bearer key sent to the endpoint; defaults to {@code OPENAI_API_KEY}. Absent: no
         * {@code Authorization} header (local servers such as vLLM or Ollama need none). Never logged or traced.
         */
        Optional<String> apiKey();
    }

    interface DatasetUrls {
        /**
         * Hosts dataset URLs may name (exact host names, no wildcards). Absent or empty: URL datasets are
         * refused, so an HTTP caller cannot make the function fetch arbitrary addresses.
         */
        Optional<List<String>> allowedHosts();

        /** Largest dataset download; a larger body is refused (checked while reading, not only from Content-Length). */
        @WithDefault("32M")
        io.quarkus.runtime.configuration.MemorySize maxSize();

        /** Time allowed for one download, redirects included. */
        @WithDefault("30s")
        Duration timeout();

        /**
         * Accept {@code http://} URLs (still only to allowed hosts). Off: only {@code https://}. Meant for
         * tests and private networks; never needed for public hosts.
         */
        @WithDefault("false")
        boolean allowPlainHttp();
    }

    interface Schedule {
        /**
         * Quartz-style cron expression with seconds ({@code 0 0 3 * * ?}: daily at 03:00 in the server's
         * time zone). Absent: no schedule. Needs {@code request} or {@code request-file}.
         */
        Optional<String> cron();

        /** The evaluation to run: a {@code POST /v1/evaluations} body as JSON text. */
        Optional<String> request();

        /** The evaluation to run, read from a JSON file at each trigger (instead of {@code request}). */
        Optional<Path> requestFile();
    }

    interface ClaudeCode {
        /**
         * The Claude Code CLI binary (the native binary of the npm package
         * {@code @anthropic-ai/claude-code-<platform>}). Absent or not executable: {@code claude-code}
         * invocations are answered 503 naming this setting; the {@code messages} engine is unaffected.
         */
        Optional<Path> cliPath();

        /** CLI version the deployment was tested with; when set, a CLI reporting another version gets 503. */
        Optional<String> expectedVersion();

        /**
         * Tools the CLI may use (its built-in names); requests can only narrow this list. The CLI sees
         * no other tool, and every permission request is checked against it again.
         */
        @WithDefault("Read,Write,Edit,Glob,Grep,LS,TodoWrite")
        List<String> allowedTools();

        /** Whether the {@code Bash} tool may run. Off by default: shell commands cannot be confined to a directory. */
        @WithDefault("false")
        boolean bashEnabled();

        /** {@code --permission-mode}; with {@code default}, the CLI asks agentfn before each edit and agentfn decides. */
        @WithDefault("default")
        String permissionMode();

        /** Parent of the per-invocation working and config directories (deleted afterwards); default: the temp dir. */
        Optional<Path> workRoot();

        /**
         * Persistent session directory: each session id gets a working and a config directory here that
         * outlive the invocation, so a later request with the same {@code session_id} resumes the CLI
         * session ({@code --resume}). Absent: every invocation starts a fresh session in throw-away
         * directories. On Lambda mount EFS here, or leave it unset.
         */
        Optional<Path> sessionDir();

        /** CLI processes running at once; further {@code claude-code} invocations get 503. */
        @WithDefault("4")
        int maxProcesses();

        /**
         * CLI processes kept started and initialized ahead of invocations, so an invocation skips the CLI's
         * start-up (about 0.5 s of CPU and 0.7 s of time per invocation here). A spare is started for the
         * options of the latest invocations (model, system prompt, tools, max turns) and only serves an
         * invocation with the same options; it runs without {@code TRACEPARENT}. Each idle spare holds about
         * 190 MB of memory and counts apart from {@code max-processes}. Used only without {@code session-dir};
         * {@code 0} turns spares off.
         */
        @WithDefault("1")
        int standbyProcesses();

        /** How long a spare CLI process may wait unused before it is ended (a new one starts with the next invocation). */
        @WithDefault("10m")
        Duration standbyMaxIdle();

        /** Time allowed for the CLI's reply to {@code initialize} (the invocation deadline still applies). */
        @WithDefault("60s")
        Duration initializeTimeout();

        /** After an {@code interrupt} (deadline), time the CLI gets to stop before it is killed. */
        @WithDefault("1s")
        Duration interruptGrace();

        /** After the final {@code result}, time the CLI gets to exit once stdin is closed before it is killed. */
        @WithDefault("5s")
        Duration exitGrace();

        /** {@code --max-budget-usd} per invocation; absent: no budget flag. */
        Optional<BigDecimal> maxBudgetUsd();

        /** Longest stdout line (one frame) accepted; a longer one fails the invocation as malformed output. */
        @WithDefault("16777216")
        int maxFrameChars();

        /** {@code CLAUDE_CODE_ENTRYPOINT} the CLI reports in its User-Agent. */
        @WithDefault("sdk-java")
        String entrypoint();
    }
}
