package dev.agentfn.evaluation;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Downloads a dataset file from a deployer-approved host. The caller names the URL, the deployer names the
 * hosts: only listed hosts, {@code https} unless plain HTTP is allowed, redirects followed only on the same
 * host, a size cap enforced while reading and one timeout over the whole download.
 */
public final class DatasetFetcher {
    private static final int MAX_REDIRECTS = 5;
    static final String HOSTS_PROPERTY = "agentfn.evaluation.dataset-urls.allowed-hosts";

    /**
     * What was downloaded: the URL as shown in messages and MLflow (no query), the URL after redirects
     * (its path decides the format), the lines and the Content-Type.
     */
    public record Download(String shown, String fetched, List<String> lines, String contentType) {
    }

    private final Set<String> allowedHosts;
    private final boolean allowPlainHttp;
    private final long maxBytes;
    private final Duration timeout;
    private final HttpClient http;

    /** @param http shared client; must not follow redirects (they are checked here) */
    public DatasetFetcher(Set<String> allowedHosts, boolean allowPlainHttp, long maxBytes, Duration timeout,
            HttpClient http) {
        this.allowedHosts = allowedHosts.stream().map(h -> h.strip().toLowerCase(Locale.ROOT))
                .filter(h -> !h.isEmpty()).collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.allowPlainHttp = allowPlainHttp;
        this.maxBytes = maxBytes;
        this.timeout = timeout;
        this.http = http;
    }

    /** The one client for all downloads: redirects are never followed by the client itself. */
    public static HttpClient client() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    public Download fetch(String url) {
        URI uri = check(parse(url), url);
        String shown = shown(uri);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<byte[]> r = get(uri, shown, deadline);
            int status = r.statusCode();
            if (status / 100 == 3 && r.headers().firstValue("location").isPresent()) {
                URI next = uri.resolve(r.headers().firstValue("location").get());
                if (!uri.getHost().equalsIgnoreCase(String.valueOf(next.getHost()))) {
                    throw new EvaluationException("dataset URL " + shown + " redirects to another host ("
                            + next.getHost() + "); only redirects on the same host are followed");
                }
                uri = check(next, shown(next));
                continue;
            }
            if (status / 100 != 2) {
                throw new EvaluationException("dataset URL " + shown + " answered HTTP " + status);
            }
            return new Download(shown, shown(uri), lines(r.body(), shown), r.headers().firstValue("content-type").orElse(""));
        }
        throw new EvaluationException("dataset URL " + shown + " redirects more than " + MAX_REDIRECTS + " times");
    }

    private static URI parse(String url) {
        try {
            URI uri = new URI(url);
            if (uri.getHost() == null) {
                throw new URISyntaxException(url, "no host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new EvaluationException("dataset.url is not a URL with a host: " + e.getReason());
        }
    }

    private URI check(URI uri, String shown) {
        String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        if (allowedHosts.isEmpty()) {
            throw new EvaluationException("URL datasets are disabled; set " + HOSTS_PROPERTY);
        }
        if (!scheme.equals("https") && !(scheme.equals("http") && allowPlainHttp)) {
            throw new EvaluationException("dataset URL " + shown + ": only https:// URLs are accepted");
        }
        if (!allowedHosts.contains(uri.getHost().toLowerCase(Locale.ROOT))) {
            throw new EvaluationException("dataset URL host " + uri.getHost() + " is not in " + HOSTS_PROPERTY);
        }
        return uri;
    }

    /** Without user info, query and fragment: those may hold credentials, and MLflow keeps what is shown. */
    static String shown(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    private HttpResponse<byte[]> get(URI uri, String shown, long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw timedOut(shown);
        }
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofNanos(left))
                .header("Accept", "application/x-ndjson, application/jsonl, text/csv, */*;q=0.5").GET().build();
        CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(req, info -> new Capped(maxBytes,
                info.headers().firstValueAsLong("content-length").orElse(-1)));
        try {
            return f.get(left, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw timedOut(shown);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EvaluationException("dataset URL " + shown + ": download interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (causedBy(c, TooLarge.class)) {
                throw new EvaluationException("dataset URL " + shown + " is larger than " + maxBytes
                        + " bytes (agentfn.evaluation.dataset-urls.max-size)");
            }
            if (causedBy(c, HttpTimeoutException.class)) {
                throw timedOut(shown);
            }
            throw new EvaluationException("dataset URL " + shown + " cannot be fetched: "
                    + c.getClass().getSimpleName());
        }
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private EvaluationException timedOut(String shown) {
        return new EvaluationException("dataset URL " + shown + " did not download within " + timeout
                + " (agentfn.evaluation.dataset-urls.timeout)");
    }

    /** Lines as {@code Files.readAllLines} splits them, so line numbers match the file's. */
    private static List<String> lines(byte[] body, String shown) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            return text.isEmpty() ? List.of() : text.lines().toList();
        } catch (CharacterCodingException e) {
            throw new EvaluationException("dataset URL " + shown + " is not UTF-8");
        }
    }

    private static final class TooLarge extends IOException {
        TooLarge() {
            super("too large");
        }
    }

    /** Collects the body, failing as soon as it passes the cap (or when Content-Length already does). */
    private static final class Capped implements HttpResponse.BodySubscriber<byte[]> {
        private final long max;
        private final long declared;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        Capped(long max, long declared) {
            this.max = max;
            this.declared = declared;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (declared > max) {
                s.cancel();
                result.completeExceptionally(new TooLarge());
                return;
            }
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if (out.size() + (long) b.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new TooLarge());
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                out.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }
}
