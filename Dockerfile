# deltaglider in an image with nothing else: the static binary, a CA bundle
# and an empty /tmp. `make image` builds the same root as
# build/image/rootfs.tar without a Docker engine; `docker build .` uses it:
#   make image && docker build -t deltaglider .
# or, with no daemon-side build:
#   docker import --change 'ENTRYPOINT ["/deltaglider"]' build/image/rootfs.tar deltaglider
# Names (not IP addresses) in --endpoint-url need /etc/hosts or
# /etc/resolv.conf, which container runtimes mount.
FROM scratch
COPY build/image/root/ /
ENTRYPOINT ["/deltaglider"]
