/** Errors the adapters throw when an outside thing cannot give what the bridge needs. One class per error. */

/** Secrets Manager could not give the webhook secret, and no cached value is recent enough to serve instead. */
export class WebhookSecretUnavailableError extends Error {
  override name = 'WebhookSecretUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The EKS cluster's endpoint and certificate authority could not be found. */
export class ClusterLookupError extends Error {
  override name = 'ClusterLookupError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A kubeconfig is missing, incomplete, or asks for something the bridge refuses (such as skipping TLS verification). */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An EKS bearer token could not be made, usually because no AWS credentials were found. */
export class EksTokenError extends Error {
  override name = 'EksTokenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
