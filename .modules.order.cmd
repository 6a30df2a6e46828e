cmd_/work/main/modules.order := {   echo /work/main/bootshake.ko; :; } > /work/main/modules.order
