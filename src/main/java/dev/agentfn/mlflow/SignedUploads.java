package dev.agentfn.mlflow;

import dev.agentfn.mlflow.MlflowApi.UploadCredential;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Uploads to cloud storage through a signed URL the way MLflow's TS client does: AWS and GCP a plain PUT,
 * Azure Blob a PUT with {@code x-ms-blob-type: BlockBlob}, ADLS Gen2 create + append + flush. The signed URL
 * carries its own authorization: the tracking server's credentials are never sent there, and the signed URI
 * never appears in error messages.
 */
public final class SignedUploads {
    private final MlflowRest rest;

    public SignedUploads(MlflowRest rest) {
        this.rest = rest;
    }

    public CompletableFuture<Void> upload(UploadCredential cred, byte[] body) {
        String what = "signed upload (" + cred.type() + ")";
        return switch (cred.type()) {
            case UploadCredential.AWS, UploadCredential.GCP ->
                    step(cred, cred.signedUri(), "PUT", body, MlflowRest.JSON, Map.of(), what);
            case UploadCredential.AZURE_BLOB ->
                    step(cred, cred.signedUri(), "PUT", body, MlflowRest.JSON, Map.of("x-ms-blob-type", "BlockBlob"),
                            what);
            case UploadCredential.AZURE_ADLS_GEN2 -> uploadAdlsGen2(cred, body, what);
            default -> CompletableFuture.failedFuture(new MlflowClientException(
                    "unsupported upload credential type: " + cred.type(), MlflowClientException.NO_RESPONSE, null,
                    false, null));
        };
    }

    private CompletableFuture<Void> uploadAdlsGen2(UploadCredential cred, byte[] body, String what) {
        String uri = cred.signedUri();
        String sep = uri.contains("?") ? "&" : "?";
        return step(cred, uri + sep + "resource=file", "PUT", new byte[0], null, Map.of(), what + " create")
                .thenCompose(v -> step(cred, uri + sep + "action=append&position=0", "PATCH", body,
                        "application/octet-stream", Map.of(), what + " append"))
                .thenCompose(v -> step(cred, uri + sep + "action=flush&position=" + body.length, "PATCH",
                        new byte[0], null, Map.of(), what + " flush"));
    }

    private CompletableFuture<Void> step(UploadCredential cred, String uri, String method, byte[] body,
            String contentType, Map<String, String> extraHeaders, String what) {
        Map<String, String> h = new LinkedHashMap<>(cred.headers());
        h.putAll(extraHeaders);
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        return rest.send(method, uri, h, body, what).thenApply(r -> {
            if (r.status() / 100 != 2) {
                // Cloud error bodies can echo signature material: report the status only.
                throw MlflowClientException.fromStatus(what + " -> " + r.status(), r.status(), null);
            }
            return null;
        });
    }
}
