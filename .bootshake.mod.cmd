cmd_/work/main/bootshake.mod := printf '%s\n'   kmod/main.o kmod/dev.o kmod/pipe.o kmod/netlink.o kmod/takeover.o kmod/mtk.o | awk '!x[$$0]++ { print("/work/main/"$$0) }' > /work/main/bootshake.mod
