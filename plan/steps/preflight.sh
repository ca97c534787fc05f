oh_say "platform: $OH_PLATFORM_NAME ($OH_ARCH), package manager $OH_FAMILY"
oh_check_disk
