print.o: /work/main/user/print.c \
 /work/main/user/../include/uapi/linux/bootshake.h \
 /work/main/user/print.h /work/main/user/dev.h
/work/main/user/../include/uapi/linux/bootshake.h:
/work/main/user/print.h:
/work/main/user/dev.h:
