/**
 * The tuning the Docker image's runtime stage gives Herald through ENV (see the Dockerfile for
 * why each is there). The bench runs Herald with it, so its figures are the image's; a test
 * holds this, the Dockerfile and the example Deployment's NODE_OPTIONS together.
 */
export const IMAGE_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  NODE_OPTIONS: '--max-semi-space-size=16',
};

/** The V8 old-space cap (MB) the example Deployment gives Herald on top of IMAGE_ENV; a test holds it to the Deployment. */
export const DEPLOYMENT_OLD_SPACE_MB = 768;
