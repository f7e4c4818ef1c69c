# syntax=docker/dockerfile:1
# Herald image: `docker run IMAGE` runs `herald serve`; any other command replaces CMD
# (`docker run IMAGE bootstrap --service cart`).
#
# Node 24: an LTS line supported into 2028, newer than the Node 20 the project develops on, and
# the major .ci/node-major.sh runs the test suite under, so the image's runtime is a tested one.
# package.json pins undici to 7.x for Node 20's sake; that works unchanged on Node 24.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# glibc raises its mmap threshold after large buffers are freed, and a connect storm frees
# thousands of ~1 MB response copies: they then fragment the heap and RSS stays up. A fixed
# threshold keeps them mmapped (S=10k bench: peak RSS 1.29 -> 1.15 GB).
ENV MALLOC_MMAP_THRESHOLD_=131072
# V8 sizes the young generation from the heap limit and, once a connect storm has pushed
# thousands of streams' state through it, keeps ~115 MB of it resident. 16 MB semi-spaces hold
# it at 32 MB: S=10k bench peak RSS 972-982 -> 896-901 MiB, for ~10 % more CPU per drain.
ENV NODE_OPTIONS=--max-semi-space-size=16
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the npm cache is dropped so it does not ship in the layer.
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force
COPY protos ./protos
COPY --from=build /src/dist ./dist
# The base image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# xDS (gRPC) and admin (HTTP: probes, /metrics).
EXPOSE 18000 18001
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
