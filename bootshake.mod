/work/main/kmod/main.o
/work/main/kmod/dev.o
/work/main/kmod/pipe.o
/work/main/kmod/netlink.o
/work/main/kmod/takeover.o
/work/main/kmod/mtk.o
