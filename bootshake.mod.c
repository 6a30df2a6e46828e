#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/elfnote-lto.h>
#include <linux/export-internal.h>
#include <linux/vermagic.h>
#include <linux/compiler.h>

BUILD_SALT;
BUILD_LTO_INFO;

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

#ifdef CONFIG_RETPOLINE
MODULE_INFO(retpoline, "Y");
#endif


static const struct modversion_info ____versions[]
__used __section("__versions") = {
	{ 0xb1d648c4, "usb_put_intf" },
	{ 0xa3a02207, "usb_alloc_urb" },
	{ 0xdd91ccf1, "usb_anchor_urb" },
	{ 0x311e8412, "usb_for_each_dev" },
	{ 0x49cd25ed, "alloc_workqueue" },
	{ 0xcec54cd5, "usb_free_urb" },
	{ 0x91c14d8d, "param_ops_uint" },
	{ 0xfe214374, "bus_unregister_notifier" },
	{ 0x4a3ad70e, "wait_for_completion_timeout" },
	{ 0xafd744c6, "__x86_indirect_thunk_rbp" },
	{ 0x7f02188f, "__msecs_to_jiffies" },
	{ 0xa6257a2f, "complete" },
	{ 0xc5b6f236, "queue_work_on" },
	{ 0xb572410, "device_driver_attach" },
	{ 0xf23fcb99, "__kfifo_in" },
	{ 0x9b489671, "nla_put_64bit" },
	{ 0x608741b5, "__init_swait_queue_head" },
	{ 0x92540fbf, "finish_wait" },
	{ 0x74a3cb0d, "usb_register_driver" },
	{ 0xffcbde5b, "genlmsg_put" },
	{ 0x69acdf38, "memcpy" },
	{ 0x37a0cba, "kfree" },
	{ 0x8c26d495, "prepare_to_wait_event" },
	{ 0xe2964344, "__wake_up" },
	{ 0x148653, "vsnprintf" },
	{ 0x34db050b, "_raw_spin_lock_irqsave" },
	{ 0x49cc379d, "__dynamic_dev_dbg" },
	{ 0xcda65bbe, "usb_get_intf" },
	{ 0xba8fbd64, "_raw_spin_lock" },
	{ 0x842f046d, "usb_poison_anchored_urbs" },
	{ 0xcbd4898c, "fortify_panic" },
	{ 0xbdfb6dbb, "__fentry__" },
	{ 0x93c7edeb, "usb_find_common_endpoints" },
	{ 0x65487097, "__x86_indirect_thunk_rax" },
	{ 0x3096548e, "usb_driver_release_interface" },
	{ 0x8427cc7b, "_raw_spin_lock_irq" },
	{ 0xe6d2458e, "do_trace_netlink_extack" },
	{ 0x8ddd8aad, "schedule_timeout" },
	{ 0x402eb050, "usb_put_dev" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0x296695f, "refcount_warn_saturate" },
	{ 0xf0906b73, "netlink_broadcast" },
	{ 0x962c8ae1, "usb_kill_anchored_urbs" },
	{ 0xa916b694, "strnlen" },
	{ 0x21f7133c, "usb_get_dev" },
	{ 0x1eb9ab54, "__alloc_skb" },
	{ 0xd44a090d, "bus_register_notifier" },
	{ 0xc4e175b6, "usb_submit_urb" },
	{ 0xbb462483, "_dev_info" },
	{ 0x30e9cf47, "usb_match_id" },
	{ 0xfe487975, "init_wait_entry" },
	{ 0x7a945ae2, "_dev_err" },
	{ 0xe25beddd, "init_net" },
	{ 0xc9119dac, "netlink_unicast" },
	{ 0xa85a3e6d, "xa_load" },
	{ 0xed89811, "kfree_skb_reason" },
	{ 0xb04a43ad, "__xa_alloc_cyclic" },
	{ 0x8c03d20c, "destroy_workqueue" },
	{ 0x4dfa8d4b, "mutex_lock" },
	{ 0x69c3c84b, "usb_driver_claim_interface" },
	{ 0x4b750f53, "_raw_spin_unlock_irq" },
	{ 0x1468be11, "nla_put" },
	{ 0xcefb0c9f, "__mutex_init" },
	{ 0xf04cb053, "usb_deregister" },
	{ 0xd35cce70, "_raw_spin_unlock_irqrestore" },
	{ 0x156696d3, "_dev_warn" },
	{ 0x5b8239ca, "__x86_return_thunk" },
	{ 0xd9a5ea54, "__init_waitqueue_head" },
	{ 0xad894ae5, "usb_unanchor_urb" },
	{ 0x77c2be96, "skb_trim" },
	{ 0x15ba50a6, "jiffies" },
	{ 0x745a981, "xa_erase" },
	{ 0xdd64e639, "strscpy" },
	{ 0x3213f038, "mutex_unlock" },
	{ 0xe5b3abad, "param_ops_bool" },
	{ 0xd9491c14, "xa_destroy" },
	{ 0x8fa25c24, "xa_find" },
	{ 0x13257ce5, "usb_kill_urb" },
	{ 0xb43f9365, "ktime_get" },
	{ 0x3c12dfe, "cancel_work_sync" },
	{ 0xab93a5c2, "genl_unregister_family" },
	{ 0x606e9d01, "kmalloc_trace" },
	{ 0xdf36914b, "xa_find_after" },
	{ 0xab1cdb2c, "device_release_driver" },
	{ 0x9ec07055, "genl_register_family" },
	{ 0xb5b54b34, "_raw_spin_unlock" },
	{ 0xe784202e, "netlink_has_listeners" },
	{ 0xe2c17b5d, "__SCT__might_resched" },
	{ 0x7a7caba8, "kmalloc_caches" },
	{ 0x2d3385d3, "system_wq" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "usbcore");

MODULE_ALIAS("usb:v0E8Dp0003d*dc*dsc*dp*ic02isc*ip*in*");
