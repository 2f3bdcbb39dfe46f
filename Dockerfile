# ordo's image: FROM scratch around the static binary that `make docker`
# builds on the host (scripts/docker-build.sh: cgo for the SQL parser, linked
# statically, Go's own resolver), so nothing is pulled and the image holds
# one file. The binary needs no /etc files, CA roots, time zones or shell.
#
# Without arguments a container starts a single-node cluster; see
# docker-compose.yml for three nodes.
FROM scratch
ARG BIN=bin/ordo-static
COPY ${BIN} /ordo
VOLUME /data
# 26257 node-to-node and kv gRPC, 5432 SQL (Postgres wire), 8080 HTTP status.
EXPOSE 26257 5432 8080
ENTRYPOINT ["/ordo"]
CMD ["start", "--store", "/data", "--single-node", "--listen-addr", "0.0.0.0:26257", "--sql-addr", "0.0.0.0:5432", "--http-addr", "0.0.0.0:8080"]
