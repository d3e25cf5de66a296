# One image for every role: `westream` is the entry point (run, worker, init, status, …).
#   docker build -t westream .
#   docker run --rm -v "$PWD:/sim" westream run            # a local run in the current directory
# The sim root is /sim, the same path in every container (WESTPA's WEST_SIM_ROOT is an absolute path that
# the sim-manager puts in each job). MD engines are not in this image: build FROM it and add yours.
FROM node:20-bookworm-slim

# bash for runseg.sh scripts; python3 for the analysis scripts of the examples.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash ca-certificates python3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/westream
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY config ./config
COPY westpa-scripts ./westpa-scripts
RUN npm ci --ignore-scripts && npm run build && npm prune --omit=dev --ignore-scripts
ENV PATH=/opt/westream/node_modules/.bin:$PATH

WORKDIR /sim
ENTRYPOINT ["westream"]
CMD ["--help"]
