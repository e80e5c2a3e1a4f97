include $(sort $(wildcard $(BR2_EXTERNAL_PIT_PATH)/package/*/*.mk))
